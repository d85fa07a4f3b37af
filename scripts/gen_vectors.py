#!/usr/bin/env python
"""Regenerate the protocol test vectors in ``proto/vectors/``.

Usage: ``python scripts/gen_vectors.py [--check]``

Each vector file is JSON that an SDK in any language can replay:

* ``client.json`` / ``server.json``: frames sent by the client / by the server.
  Every case is ``{"name", "frame", "hex"}``: ``frame`` is the MessagePack map
  exactly as it travels (keys in wire order, ``t`` first, fields holding their
  default omitted) and ``hex`` its bytes. Decoding ``hex`` must give ``frame``
  (absent fields take their defaults); encoding ``frame`` must give ``hex``.
* ``invalid.json``: ``{"name", "side", "hex", "code", "max_frame"?}``: bytes
  that the decoder on ``side`` (``server`` decodes client frames, ``client``
  decodes server frames) must refuse with ``code``.

The output is deterministic: the cases are written out by hand below.
``--check`` exits 1 if the committed files differ from what this would write.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import msgpack
import msgspec

from parley.proto import frames as f
from parley.proto.codec import encode

OUT = Path(__file__).resolve().parent.parent / "proto" / "vectors"

_m1 = f.Message(
    conv="c_9f2",
    seq=41,
    mid="m_01HZX",
    sender="u_ann",
    kind="text",
    body={"text": "Hi 👋"},
    ts=1_717_000_000_000,
    cmid="a1b2c3",
)
_recalled = f.Message(
    conv="c_9f2",
    seq=40,
    mid="m_01HZW",
    sender="u_bob",
    kind="text",
    body={},
    ts=1_716_999_000_000,
    recalled=True,
)
_edit = f.Message(
    conv="c_9f2",
    seq=42,
    mid="m_01HZY",
    sender="u_ann",
    kind="edit",
    body={"target": 41, "body": {"text": "Hi all 👋"}},
    ts=1_717_000_100_000,
)
_conv = f.ConvInfo(
    conv="c_9f2",
    kind="group",
    name="Launch",
    meta={"topic": "release", "pinned": [3, 7]},
    epoch="e1",
    last_seq=42,
    created=1_716_000_000_000,
    members=[f.MemberInfo(user="u_ann", role="owner", read=42), f.MemberInfo(user="u_bob", role="member")],
)

CLIENT: list[tuple[str, msgspec.Struct]] = [
    ("hello", f.Hello(v=1, token="eyJhbGciOiJIUzI1NiJ9.e30.sig")),
    ("hello with device and client", f.Hello(v=1, token="tok", device="ios-7F3A", client="parley-swift/0.1")),
    ("ping", f.Ping()),
    ("ping with timestamp", f.Ping(ts=1_717_000_000_000)),
    ("send text", f.Send(id=1, conv="c_9f2", cmid="a1b2c3", body={"text": "Hi 👋"})),
    (
        "send rich with mentions",
        f.Send(
            id=2,
            conv="c_9f2",
            cmid="a1b2c4",
            kind="rich",
            body={"type": "image", "url": "https://cdn.example/p.png", "w": 640, "h": 480},
            mentions=["u_bob"],
        ),
    ),
    (
        "send custom with nested values",
        f.Send(
            id=3,
            conv="c_9f2",
            cmid="a1b2c5",
            kind="custom",
            body={"card": {"price": 12.5, "qty": -3, "big": 2**53, "tags": ["a", None, True]}},
        ),
    ),
    ("send with a 40-character text (str8)", f.Send(id=4, conv="c", cmid="x", body={"text": "y" * 40})),
    ("edit", f.Edit(id=5, conv="c_9f2", seq=41, body={"text": "Hi all 👋"})),
    ("recall", f.Recall(id=6, conv="c_9f2", seq=40)),
    ("typing on", f.Typing(conv="c_9f2")),
    ("typing off", f.Typing(conv="c_9f2", on=False)),
    ("draft", f.Draft(conv="c_9f2", draft="d_1", body={"text": "Our returns"})),
    (
        "draft done",
        f.Draft(conv="c_9f2", draft="d_1", body={"text": "Our returns window is 30 days."}, done=True),
    ),
    ("read", f.Read(id=7, conv="c_9f2", seq=42)),
    ("sync with no positions", f.Sync(id=8)),
    (
        "sync with positions and limit",
        f.Sync(
            id=9,
            positions=[f.Position(conv="c_9f2", seq=39, epoch="e1"), f.Position(conv="c_new", seq=0)],
            limit=100,
        ),
    ),
    ("history latest page", f.History(id=10, conv="c_9f2")),
    ("history before", f.History(id=11, conv="c_9f2", before=41, limit=20)),
    ("history after", f.History(id=12, conv="c_9f2", after=0, limit=500)),
    ("conv_create direct", f.ConvCreate(id=13, kind="direct", members=["u_bob"])),
    (
        "conv_create group",
        f.ConvCreate(
            id=14, kind="group", members=["u_bob", "u_cy"], name="Launch", meta={"topic": "release"}
        ),
    ),
    ("conv_get", f.ConvGet(id=15, conv="c_9f2")),
    ("conv_list", f.ConvList(id=16)),
    ("conv_update name", f.ConvUpdate(id=17, conv="c_9f2", name="Launch 2")),
    ("conv_update meta", f.ConvUpdate(id=18, conv="c_9f2", meta={"topic": None})),
    ("member_add", f.MemberAdd(id=19, conv="c_9f2", users=["u_dee"])),
    ("member_add as admin", f.MemberAdd(id=20, conv="c_9f2", users=["u_dee", "u_eve"], role="admin")),
    ("member_remove", f.MemberRemove(id=21, conv="c_9f2", users=["u_eve"])),
    ("member_role", f.MemberRole(id=22, conv="c_9f2", user="u_dee", role="member")),
    ("leave", f.Leave(id=23, conv="c_9f2")),
    ("presence_sub", f.PresenceSub(id=24, users=["u_bob", "u_cy"])),
    ("presence_unsub", f.PresenceUnsub(id=25, users=["u_cy"])),
    ("support_handoff", f.SupportHandoff(id=30, conv="c_sup", reason="asked for a human", summary="refund")),
    ("support_claim", f.SupportClaim(id=31, conv="c_sup")),
    ("support_transfer", f.SupportTransfer(id=32, conv="c_sup", agent="u_ann")),
    ("support_release", f.SupportRelease(id=33, conv="c_sup")),
    ("support_resolve", f.SupportResolve(id=34, conv="c_sup")),
    ("support_rate", f.SupportRate(id=35, conv="c_sup", score=5)),
    ("support_queue", f.SupportQueue(id=36)),
    ("support_note", f.SupportNote(id=37, conv="c_sup", text="VIP, be generous")),
    ("profile_get", f.ProfileGet(id=38, user="u_cu")),
    (
        "profile_tag",
        f.ProfileTag(
            id=39, user="u_cu", add=[f.TagInput(name="interest:skincare", confidence=0.8)], remove=["vip"]
        ),
    ),
    ("request id at its maximum (2**53)", f.Read(id=2**53, conv="c", seq=2**53)),
    ("block", f.Block(id=40, user="u_bob")),
    ("unblock", f.Unblock(id=41, user="u_bob")),
    ("block_list", f.BlockList(id=42)),
    ("member_list", f.MemberList(id=43, conv="c_9f2", after="u_bob", limit=100)),
    ("report", f.Report(id=44, conv="c_9f2", seq=7, reason="spam")),
    ("invite_list", f.InviteList(id=45, after="c_9f2", limit=50)),
    ("invite_accept", f.InviteAccept(id=46, conv="c_9f2")),
    ("invite_decline", f.InviteDecline(id=47, conv="c_9f2")),
    (
        "track",
        f.Track(
            id=48,
            event="product_viewed",
            props={"category": "shoes", "price": 59.9},
            ts=1_717_000_000_000,
            eid="ev_1",
        ),
    ),
    (
        "identify",
        f.Identify(
            id=49,
            identifiers=[
                f.IdentifierInput(kind="phone", value="+14155550100"),
                f.IdentifierInput(kind="cookie", value="ck1"),
            ],
        ),
    ),
    ("profile_set", f.ProfileSet(id=50, attributes={"plan": "gold", "ltv": 12.5}, timezone="Europe/Paris")),
    ("consent", f.ConsentSet(id=51, topic="marketing:sms", granted=False)),
]

SERVER: list[tuple[str, msgspec.Struct]] = [
    (
        "welcome",
        f.Welcome(
            v=1,
            session="s_7Q",
            app="acme",
            user="u_ann",
            node="n1",
            ts=1_717_000_000_000,
            heartbeat_ms=25_000,
            max_frame=65_536,
        ),
    ),
    ("pong", f.Pong()),
    ("pong echoing the timestamp", f.Pong(ts=1_717_000_000_000)),
    ("ack", f.Ack(id=1, conv="c_9f2", cmid="a1b2c3", mid="m_01HZX", seq=41, ts=1_717_000_000_000)),
    (
        "ack for a duplicate",
        f.Ack(id=9, conv="c_9f2", cmid="a1b2c3", mid="m_01HZX", seq=41, ts=1_717_000_000_000, dup=True),
    ),
    ("msg", f.Msg(m=_m1)),
    ("msg edit", f.Msg(m=_edit)),
    (
        "msg recall",
        f.Msg(
            m=f.Message(
                conv="c_9f2",
                seq=43,
                mid="m_01HZZ",
                sender="u_bob",
                kind="recall",
                body={"target": 40},
                ts=1_717_000_200_000,
            )
        ),
    ),
    (
        "msg system",
        f.Msg(
            m=f.Message(
                conv="c_9f2",
                seq=1,
                mid="m_0",
                sender="system",
                kind="system",
                body={"event": "created", "by": "u_ann"},
                ts=1_716_000_000_000,
            )
        ),
    ),
    ("receipt", f.Receipt(conv="c_9f2", user="u_bob", seq=41)),
    ("typing_event", f.TypingEvent(conv="c_9f2", user="u_bob")),
    ("typing_event off", f.TypingEvent(conv="c_9f2", user="u_bob", on=False)),
    ("resync all", f.Resync()),
    ("resync some", f.Resync(convs=["c_9f2"])),
    ("draft_event", f.DraftEvent(conv="c_9f2", user="u_bot", draft="d_1", body={"text": "Our returns"})),
    ("presence online", f.Presence(user="u_bob", online=True)),
    ("presence offline", f.Presence(user="u_bob", online=False, last_seen=1_717_000_300_000)),
    ("conv_event joined", f.ConvEvent(event="joined", conv=_conv)),
    ("conv_event left", f.ConvEvent(event="left", conv=f.ConvInfo(conv="c_9f2", kind="group"))),
    ("ok", f.Ok(id=7)),
    ("conv", f.ConvResult(id=15, conv=_conv)),
    (
        "convs",
        f.ConvListResult(
            id=16,
            convs=[
                f.ConvSummary(
                    conv="c_9f2", kind="group", name="Launch", last_seq=42, read=40, unread=2, last=_edit
                ),
                f.ConvSummary(conv="c_d1", kind="direct"),
            ],
        ),
    ),
    (
        "page",
        f.Page(
            id=11,
            conv="c_9f2",
            messages=[_recalled, f.Message(**{**msgspec.structs.asdict(_m1), "edited": 1_717_000_100_000})],
        ),
    ),
    ("page with more", f.Page(id=10, conv="c_9f2", messages=[], more=True)),
    (
        "synced",
        f.Synced(
            id=9,
            convs=[
                f.SyncState(conv="c_9f2", last_seq=42, epoch="e1"),
                f.SyncState(conv="c_big", last_seq=900, epoch="e1", more=True),
                f.SyncState(conv="c_old", last_seq=3, epoch="e2", reset=True),
            ],
        ),
    ),
    (
        "support_list",
        f.SupportList(
            id=36,
            waiting=[
                f.ConvInfo(conv="c_sup", kind="support", meta={"support": {"state": "waiting_for_agent"}})
            ],
        ),
    ),
    ("support_queue_event", f.SupportQueueEvent(conv="c_sup", state="waiting_for_agent")),
    (
        "profile",
        f.ProfileResult(
            id=38,
            profile=f.ProfileInfo(
                user="u_cu",
                tags=[
                    f.Tag(
                        name="interest:skincare",
                        source="model",
                        confidence=0.8,
                        evidence="m_1",
                        ts=1_717_000_000_000,
                    )
                ],
                attributes={"budget": 50},
                counters={"thumbs_up": 2},
            ),
        ),
    ),
    (
        "error for a request",
        f.Error(code="forbidden", message="not a member of c_9f2", action="fatal", id=2),
    ),
    (
        "error for the connection",
        f.Error(code="unsupported_version", message="protocol version 9 is not supported", action="fatal"),
    ),
    ("bye", f.Bye(reason="shutdown", reconnect_ms=1500)),
    (
        "ack with the stored body (sensitive words masked)",
        f.Ack(
            id=5, conv="c_9f2", cmid="k1", mid="m_2", seq=8, ts=1_717_000_000_000, body={"text": "you ***"}
        ),
    ),
    ("blocks", f.Blocks(id=42, users=[f.BlockInfo(user="u_bob", since=1_717_000_000_000)])),
    ("identified", f.Identified(id=49, pid="p_3f9a0b1c2d3e4f50", merged=1)),
    (
        "invitations",
        f.Invitations(
            id=45,
            invitations=[
                f.InvitationInfo(
                    conv="c_9f2",
                    inviter="u_alice",
                    name="club",
                    created=1_717_000_000_000,
                    expires=1_717_604_800_000,
                )
            ],
            more=True,
        ),
    ),
    (
        "invited",
        f.Invited(
            invitation=f.InvitationInfo(
                conv="c_9f2",
                inviter="u_alice",
                role="admin",
                created=1_717_000_000_000,
                expires=1_717_604_800_000,
            )
        ),
    ),
    ("tracked", f.TrackResult(id=48, eid="ev_1")),
    ("tracked duplicate", f.TrackResult(id=49, eid="ev_1", dup=True)),
    (
        "members",
        f.MemberPage(
            id=43, conv="c_9f2", members=[f.MemberInfo(user="u_carol", role="member", read=3)], more=True
        ),
    ),
]


def _hex(obj: Any) -> str:
    return msgpack.packb(obj, use_bin_type=True).hex()


def _send(**extra: Any) -> dict[str, Any]:
    return {"t": "send", "id": 1, "conv": "c", "cmid": "m", "body": {"text": "x"}, **extra}


def _nest(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth - 1):
        value = [value]
    return value


INVALID: list[dict[str, Any]] = [
    {"name": "empty input", "side": "server", "hex": "", "code": "bad_frame"},
    {"name": "reserved byte 0xc1", "side": "server", "hex": "c1", "code": "bad_frame"},
    {
        "name": "truncated map",
        "side": "server",
        "hex": _hex({"t": "ping", "ts": 5})[:-2],
        "code": "bad_frame",
    },
    {"name": "trailing byte", "side": "server", "hex": _hex({"t": "ping"}) + "00", "code": "bad_frame"},
    {
        "name": "two frames in one message",
        "side": "client",
        "hex": _hex({"t": "pong"}) * 2,
        "code": "bad_frame",
    },
    {"name": "not a map (array)", "side": "server", "hex": _hex(["ping"]), "code": "bad_frame"},
    {"name": "not a map (string)", "side": "client", "hex": _hex("pong"), "code": "bad_frame"},
    {"name": "invalid UTF-8 in the tag", "side": "server", "hex": "81a174a2fffe", "code": "bad_frame"},
    {"name": "missing t", "side": "server", "hex": _hex({"id": 1}), "code": "unknown_frame"},
    {"name": "unknown t", "side": "server", "hex": _hex({"t": "teleport"}), "code": "unknown_frame"},
    {"name": "t is not a string", "side": "server", "hex": _hex({"t": 3}), "code": "unknown_frame"},
    {
        "name": "server frame sent to the server",
        "side": "server",
        "hex": _hex({"t": "ok", "id": 1}),
        "code": "unknown_frame",
    },
    {
        "name": "client frame sent to a client",
        "side": "client",
        "hex": _hex({"t": "ping"}),
        "code": "unknown_frame",
    },
    {
        "name": "missing required field",
        "side": "server",
        "hex": _hex({"t": "send", "id": 1, "conv": "c", "cmid": "m"}),
        "code": "invalid_frame",
    },
    {
        "name": "wrong type",
        "side": "server",
        "hex": _hex({"t": "read", "id": "1", "conv": "c", "seq": 1}),
        "code": "invalid_frame",
    },
    {
        "name": "negative seq",
        "side": "server",
        "hex": _hex({"t": "read", "id": 1, "conv": "c", "seq": -1}),
        "code": "invalid_frame",
    },
    {
        "name": "request id above 2**53",
        "side": "server",
        "hex": _hex({"t": "read", "id": 2**53 + 1, "conv": "c", "seq": 1}),
        "code": "invalid_frame",
    },
    {
        "name": "empty conversation id",
        "side": "server",
        "hex": _hex({"t": "typing", "conv": ""}),
        "code": "invalid_frame",
    },
    {
        "name": "history limit above 500",
        "side": "server",
        "hex": _hex({"t": "history", "id": 1, "conv": "c", "limit": 501}),
        "code": "invalid_frame",
    },
    {
        "name": "client sends a system message",
        "side": "server",
        "hex": _hex(_send(kind="system")),
        "code": "invalid_frame",
    },
    {
        "name": "integer key in body",
        "side": "server",
        "hex": _hex(_send(body={"a": {1: 2}})),
        "code": "invalid_frame",
    },
    {
        "name": "binary value in body",
        "side": "server",
        "hex": _hex(_send(body={"a": b"\x00"})),
        "code": "invalid_frame",
    },
    {
        "name": "extension type in body",
        "side": "server",
        "hex": _hex(_send(body={"a": msgpack.ExtType(1, b"x")})),
        "code": "invalid_frame",
    },
    {
        "name": "timestamp in body",
        "side": "server",
        "hex": _hex(_send(body={"a": msgpack.Timestamp(1, 0)})),
        "code": "invalid_frame",
    },
    {
        "name": "unsigned 64-bit integer in body",
        "side": "server",
        "hex": _hex(_send(body={"a": 2**64 - 1})),
        "code": "invalid_frame",
    },
    {
        "name": "body nested 33 deep",
        "side": "server",
        "hex": _hex(_send(body={"a": _nest(33)})),
        "code": "invalid_frame",
    },
    {
        "name": "frame larger than max_frame",
        "side": "server",
        "hex": _hex(_send(body={"text": "x" * 32})),
        "code": "frame_too_large",
        "max_frame": 32,
    },
]


def _case(name: str, frame: msgspec.Struct) -> dict[str, Any]:
    data = encode(frame)
    wire = msgpack.unpackb(data, raw=False)
    assert wire == msgspec.to_builtins(frame), name
    return {"name": name, "frame": wire, "hex": data.hex()}


def build() -> dict[str, str]:
    """File name -> exact file text."""

    def dump(obj: Any) -> str:
        return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"

    return {
        "client.json": dump([_case(n, fr) for n, fr in CLIENT]),
        "server.json": dump([_case(n, fr) for n, fr in SERVER]),
        "invalid.json": dump(INVALID),
    }


def main(argv: list[str]) -> int:
    files = build()
    if "--check" in argv:
        stale = [
            n for n, text in files.items() if not (OUT / n).exists() or (OUT / n).read_text("utf-8") != text
        ]
        for n in stale:
            print(f"stale: proto/vectors/{n}", file=sys.stderr)
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (OUT / name).write_text(text, encoding="utf-8")
        print(f"wrote proto/vectors/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
