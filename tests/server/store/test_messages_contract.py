"""The MessageLog port's contract (seqs, idempotent append, edit, recall), run against every adapter."""

from __future__ import annotations

import asyncio
from typing import Any

from parley.server.models import App, Conversation, Member, NewMessage, User
from parley.server.ports import Store
from tests.server.store.conftest import MakeStore
from tests.server.store.contract_data import APP, EVERYTHING, conv, member, msg, seqs

# messages ------------------------------------------------------------------


async def test_seqs_are_dense_from_one(store: Store) -> None:
    await store.create_conversation(conv(), [member("alice")])
    first = await store.append([msg("a"), msg("b"), msg("c")])
    assert [(r.message.seq, r.duplicate) for r in first] == [(1, False), (2, False), (3, False)]
    assert [r.message.cmid for r in first] == ["a", "b", "c"]
    second = await store.append([msg(str(i)) for i in range(200)])
    assert [r.message.seq for r in second] == list(range(4, 204))
    assert await seqs(store) == list(range(1, 204))
    c = await store.get_conversation(APP, "c1")
    assert c is not None and c.last_seq == 203
    assert [m.seq for m in await store.get_messages(APP, "c1", 10, 12)] == [10, 11, 12]
    assert await store.get_messages(APP, "c1", 204, 300) == []
    assert await store.append([]) == []


async def test_message_round_trip(store: Store) -> None:
    await store.create_conversation(conv(), [member("alice")])
    body: dict[str, Any] = {"text": "你好 👋", "n": [1, 2.5, None, True], "x": {"y": {}}}
    new = NewMessage(
        app=APP,
        conv="c1",
        mid="m1",
        sender="alice",
        cmid="k",
        kind="custom",
        body=body,
        ts=123,
        mentions=("bob",),
    )
    (appended,) = await store.append([new])
    (stored,) = await store.get_messages(APP, "c1", 1, 1)
    assert stored == appended.message
    assert (stored.mid, stored.kind, stored.body, stored.ts, stored.mentions) == (
        "m1",
        "custom",
        body,
        123,
        ("bob",),
    )
    assert (stored.edited, stored.recalled) == (0, False)


async def test_values_a_client_cannot_decode_are_repaired_on_read(store: Store) -> None:
    """Bodies are validated before they reach a store; one stored by an older version (binary
    here, which both stores hold) comes back as plain data a client decodes (``proto.plain.repair``)."""
    await store.create_conversation(conv(), [member("alice")])
    body: dict[str, Any] = {"text": "x", "raw": b"\x00\xff", "n": 1}
    new = NewMessage(app=APP, conv="c1", mid="m1", sender="alice", cmid="k", kind="custom", body=body, ts=1)
    await store.append([new])
    (stored,) = await store.get_messages(APP, "c1", 1, 1)
    assert stored.body == {"text": "x", "raw": str(b"\x00\xff"), "n": 1}


async def test_large_ints_come_back_as_plain_ints(store: Store) -> None:
    """Millisecond timestamps exceed 32 bits; records must hold ``int`` (BSON gives ``Int64``)."""
    now = 1_795_379_559_123
    await store.upsert_user(User(app=APP, user="u", meta={"born": now}, created=now, last_seen=now))
    await store.create_conversation(
        Conversation(app=APP, conv="c1", kind="group", epoch="e", created=now, meta={"at": [now]}),
        [Member(app=APP, conv="c1", user="u", role="owner", joined=now)],
    )
    new = NewMessage(
        app=APP, conv="c1", mid="m", sender="u", cmid="k", kind="custom", body={"at": {"t": now}}, ts=now
    )
    await store.append([new])
    await store.edit_message(APP, "c1", 1, {"at": now}, now)
    user = await store.get_user(APP, "u")
    (listed,) = await store.list_user_conversations(APP, "u")
    (message,) = await store.get_messages(APP, "c1", 1, 1)
    values = [user.created, user.last_seen, user.meta["born"]] if user else []
    values += [listed[0].created, listed[0].meta["at"][0], listed[1].joined]
    values += [message.ts, message.edited, message.body["at"], message.seq]
    assert values == [now] * 9 + [1]
    assert all(type(v) is int for v in values)


async def test_resend_is_idempotent(store: Store) -> None:
    await store.create_conversation(conv(), [member("alice")])
    (original,) = await store.append([msg("k1", text="first")])
    again = await store.append([msg("k0"), msg("k1", text="changed"), msg("k2")])
    assert [(r.message.cmid, r.message.seq, r.duplicate) for r in again] == [
        ("k0", 2, False),
        ("k1", 1, True),
        ("k2", 3, False),
    ]
    assert again[1].message == original.message  # the original, not the resend
    assert await seqs(store) == [1, 2, 3]
    # Another sender may reuse the same client id: not a duplicate.
    (other,) = await store.append([msg("k1", sender="bob")])
    assert (other.duplicate, other.message.seq) == (False, 4)
    c = await store.get_conversation(APP, "c1")
    assert c is not None and c.last_seq == 4


async def test_repeated_cmid_inside_one_batch(store: Store) -> None:
    await store.create_conversation(conv(), [member("alice")])
    out = await store.append([msg("a"), msg("b", text="one"), msg("c"), msg("b", text="two"), msg("a")])
    assert [(r.message.cmid, r.message.seq, r.duplicate) for r in out] == [
        ("a", 1, False),
        ("b", 2, False),
        ("c", 3, False),
        ("b", 2, True),
        ("a", 1, True),
    ]
    assert out[3].message.body == {"text": "one"}
    assert await seqs(store) == [1, 2, 3]


async def test_mixed_batch_across_conversations(store: Store) -> None:
    for c in ("c1", "c2", "c3"):
        await store.create_conversation(conv(c), [member("alice", c)])
    await store.append([msg("pre", conv_id="c2")])
    batch = [msg(f"m{i}", conv_id=f"c{1 + i % 3}") for i in range(12)]
    out = await store.append([*batch, msg("pre", conv_id="c2")])
    assert [r.message.cmid for r in out] == [*[m.cmid for m in batch], "pre"]
    per_conv: dict[str, list[int]] = {}
    for r in out[:-1]:
        per_conv.setdefault(r.message.conv, []).append(r.message.seq)
    assert per_conv == {"c1": [1, 2, 3, 4], "c2": [2, 3, 4, 5], "c3": [1, 2, 3, 4]}
    assert (out[-1].duplicate, out[-1].message.seq) == (True, 1)
    for c, last in (("c1", 4), ("c2", 5), ("c3", 4)):
        got = await store.get_conversation(APP, c)
        assert got is not None and got.last_seq == last
        assert await seqs(store, c) == list(range(1, last + 1))


async def test_concurrent_appends_from_two_instances(make_store: MakeStore) -> None:
    """Two store instances stand for two server processes: no gaps, no duplicates."""
    a, b = await make_store(), await make_store()
    await a.create_conversation(conv(), [member("alice"), member("bob")])
    await a.append([msg("warm")])  # both now hold a (soon stale) idea of the top
    await b.append([msg("warm")])
    batches = [
        (a if i % 2 else b, [msg(f"{i}-{j}", sender="alice" if i % 3 else "bob") for j in range(1 + i % 4)])
        for i in range(24)
    ]
    # Every batch is also sent twice at once, through both instances (a flaky client).
    calls = [s.append(batch) for s, batch in batches] + [
        (b if s is a else a).append(batch) for s, batch in batches
    ]
    results = await asyncio.gather(*calls)
    expected = 1 + sum(len(batch) for _, batch in batches)

    stored = await a.get_messages(APP, "c1", 1, EVERYTHING)
    assert [m.seq for m in stored] == list(range(1, expected + 1))
    assert len({(m.sender, m.cmid) for m in stored}) == expected
    fresh = [r for out in results for r in out if not r.duplicate]
    assert sorted(r.message.seq for r in fresh) == list(range(2, expected + 1))
    for (_, batch), first, second in zip(
        batches, results[: len(batches)], results[len(batches) :], strict=True
    ):
        assert [r.message for r in first] == [r.message for r in second]  # both got the stored message
        assert [r.message.cmid for r in first] == [m.cmid for m in batch]
        assert [r.message.seq for r in first] == sorted(r.message.seq for r in first)  # input order
    for s in (a, b):
        c = await s.get_conversation(APP, "c1")
        assert c is not None and c.last_seq == expected


async def test_edit_and_recall(store: Store) -> None:
    await store.create_conversation(conv(), [member("alice")])
    await store.append([msg("a", text="v1"), msg("b", text="keep")])
    edited = await store.edit_message(APP, "c1", 1, {"text": "v2"}, 3000)
    assert edited is not None and edited.body == {"text": "v2"} and edited.edited == 3000
    assert (await store.get_messages(APP, "c1", 1, 1))[0] == edited

    recalled = await store.recall_message(APP, "c1", 1)
    assert recalled is not None and recalled.recalled and recalled.body == {}
    assert recalled.seq == 1 and recalled.cmid == "a" and recalled.edited == 3000
    # Documented choice: editing a recalled message returns the tombstone unchanged.
    assert await store.edit_message(APP, "c1", 1, {"text": "v3"}, 4000) == recalled
    assert (await store.get_messages(APP, "c1", 1, 2))[0] == recalled
    assert (await store.get_messages(APP, "c1", 2, 2))[0].body == {"text": "keep"}

    assert await store.edit_message(APP, "c1", 9, {"text": "x"}, 1) is None
    assert await store.recall_message(APP, "c1", 9) is None
    # A resend of a recalled message is still a duplicate (of the tombstone).
    (again,) = await store.append([msg("a", text="v1")])
    assert again.duplicate and again.message == recalled


async def test_tenants_never_mix(store: Store) -> None:
    for app in ("a1", "a2"):
        await store.create_app(App(app=app, name=app, secret="s", created=1))
        await store.add_api_key(app, f"{app}-key", 1)
        await store.upsert_user(User(app=app, user="u", name=f"{app}-name"))
        await store.create_conversation(
            conv("c1", app=app, kind="direct", direct_key="u\nv"),
            [member("u", app=app), member("v", app=app)],
        )
    await store.append([msg("x", app="a1", text="one"), msg("y", app="a1")])
    (a2_first,) = await store.append([msg("x", app="a2", text="two")])
    assert (a2_first.duplicate, a2_first.message.seq) == (False, 1)
    assert [m.body["text"] for m in await store.get_messages("a2", "c1", 1, EVERYTHING)] == ["two"]
    assert await seqs(store, app="a1") == [1, 2]
    await store.set_read("a1", "c1", "u", 2)
    u2 = await store.get_member("a2", "c1", "u")
    assert u2 is not None and u2.read_seq == 0
    c2 = await store.get_conversation("a2", "c1")
    assert c2 is not None and c2.app == "a2" and c2.last_seq == 1
    [(listed, _)] = await store.list_user_conversations("a2", "u")
    assert (listed.app, listed.last_seq) == ("a2", 1)
    user = await store.get_user("a2", "u")
    assert user is not None and user.name == "a2-name"
    keyed = await store.app_for_key("a2-key")
    assert keyed is not None and keyed.app == "a2"
    await store.recall_message("a1", "c1", 1)
    assert (await store.get_messages("a2", "c1", 1, 1))[0].recalled is False
    assert await store.remove_members("a1", "c1", ["v"]) == ["v"]
    assert await store.get_member("a2", "c1", "v") is not None
