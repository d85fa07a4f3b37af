"""The record → wire conversions the services share: the bounded preview and the member count."""

from __future__ import annotations

import msgspec

from parley.server.models import Conversation, Member, StoredMessage
from parley.server.services.wire import conv_info, preview, wire_message


def _message(text: str, **kw: object) -> StoredMessage:
    fields: dict[str, object] = dict(
        app="a", conv="c_0123456789abcdef", seq=7, mid="m_0123456789abcdef", sender="alice", cmid="k" * 64,
        kind="text", body={"text": text}, ts=1, mentions=("bob", "carol"),
    )  # fmt: skip
    fields.update(kw)
    return StoredMessage(**fields)  # type: ignore[arg-type]


def test_a_small_message_is_previewed_whole() -> None:
    m = _message("hello")
    assert preview(m, 1024) == wire_message(m)


def test_a_long_message_is_cut_within_the_bound_keeping_its_start() -> None:
    for text in ("x" * 5000, "😀" * 5000, "字" * 5000):
        cut = preview(_message(text), 1024)
        assert len(msgspec.msgpack.encode(cut)) <= 1024
        assert cut.body["truncated"] is True and text.startswith(cut.body["text"]) and cut.body["text"]
        assert cut.mentions == [] and (cut.seq, cut.sender) == (7, "alice")
    custom = preview(_message("", kind="custom", body={"blob": "y" * 5000}), 1024)
    assert custom.body == {"truncated": True}


def test_conv_info_counts_members_unless_told() -> None:
    c = Conversation(app="a", conv="c1", kind="group", epoch="e", created=1, name="n", last_seq=3)
    members = [Member("a", "c1", "alice", "owner", 1, read_seq=2), Member("a", "c1", "bob", "member", 1)]
    info = conv_info(c, members)
    assert info.member_count == 2 and [(m.user, m.role, m.read) for m in info.members] == [
        ("alice", "owner", 2),
        ("bob", "member", 0),
    ]
    assert conv_info(c, member_count=500).members == [] and conv_info(c, member_count=500).member_count == 500
