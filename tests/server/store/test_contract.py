"""The Store port's contract, run against every adapter (see conftest.py), plus failure mapping."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.uri_parser import parse_uri

from parley.server.models import App, Conversation, Member, NewMessage, User
from parley.server.ports import Store, StoreUnavailable
from parley.server.store import open_store
from parley.server.store.mongo import MongoStore
from parley.server.store.mongo_docs import MESSAGES, from_new_message
from parley.server.store.sqlite import SQLiteStore
from tests.server.store.conftest import MakeStore
from tests.servers import free_port

APP = "acme"
EVERYTHING = 10**9


def conv(
    conv_id: str = "c1", *, app: str = APP, kind: str = "group", direct_key: str | None = None
) -> Conversation:
    return Conversation(
        app=app, conv=conv_id, kind=kind, epoch="e1", created=1000, name=conv_id, direct_key=direct_key
    )


def member(
    user: str, conv_id: str = "c1", *, app: str = APP, role: str = "member", joined: int = 1000
) -> Member:
    return Member(app=app, conv=conv_id, user=user, role=role, joined=joined)


def msg(
    cmid: str, *, conv_id: str = "c1", sender: str = "alice", app: str = APP, text: str = "hi"
) -> NewMessage:
    return NewMessage(
        app=app,
        conv=conv_id,
        mid=uuid.uuid4().hex,
        sender=sender,
        cmid=cmid,
        kind="text",
        body={"text": text},
        ts=2000,
    )


async def seqs(store: Store, conv_id: str = "c1", app: str = APP) -> list[int]:
    return [m.seq for m in await store.get_messages(app, conv_id, 1, EVERYTHING)]


# lifecycle ---------------------------------------------------------------


async def test_open_is_idempotent_and_ping(store: Store) -> None:
    await store.open()
    await store.ping()


def test_open_store_picks_the_adapter(tmp_path) -> None:
    path = str(tmp_path / "x.db")
    assert isinstance(open_store(None, sqlite_path=path), SQLiteStore)
    assert isinstance(open_store("sqlite:///ignored", sqlite_path=path), SQLiteStore)
    assert isinstance(open_store("mongodb://127.0.0.1:1/", sqlite_path=path), MongoStore)
    assert isinstance(open_store("mongodb+srv://example.invalid/", sqlite_path=path), MongoStore)


# apps and keys -----------------------------------------------------------


async def test_apps(store: Store) -> None:
    acme = App(app=APP, name="Acme", secret="s1", created=1)
    beta = App(app="beta", name="Beta", secret="s2", created=2)
    await store.create_app(beta)
    await store.create_app(acme)
    assert await store.get_app(APP) == acme
    assert await store.get_app("nope") is None
    assert await store.list_apps() == [acme, beta]
    # The port leaves conflicts open; both adapters refuse to overwrite an app.
    with pytest.raises(ValueError):
        await store.create_app(App(app=APP, name="Other", secret="s3", created=3))
    assert await store.get_app(APP) == acme


async def test_api_keys(store: Store) -> None:
    acme = App(app=APP, name="Acme", secret="s1", created=1)
    beta = App(app="beta", name="Beta", secret="s2", created=2)
    await store.create_app(acme)
    await store.create_app(beta)
    await store.add_api_key(APP, "a" * 64, 5)
    await store.add_api_key(APP, "a" * 64, 5)  # idempotent
    await store.add_api_key("beta", "b" * 64, 5)
    assert await store.app_for_key("a" * 64) == acme
    assert await store.app_for_key("b" * 64) == beta
    assert await store.app_for_key("c" * 64) is None


# users -------------------------------------------------------------------


async def test_upsert_user_keeps_created(store: Store) -> None:
    created = await store.upsert_user(User(app=APP, user="u1", name="Ann", meta={"tier": 1}, created=10))
    assert created == User(app=APP, user="u1", name="Ann", meta={"tier": 1}, created=10)
    updated = await store.upsert_user(
        User(app=APP, user="u1", name="Anne", role="agent", meta={}, created=99)
    )
    assert updated == User(app=APP, user="u1", name="Anne", role="agent", meta={}, created=10)
    assert await store.get_user(APP, "u1") == updated
    assert await store.get_user(APP, "u2") is None


async def test_set_last_seen(store: Store) -> None:
    await store.set_last_seen(APP, "ghost", 50)  # creates a bare user
    bare = await store.get_user(APP, "ghost")
    assert bare is not None and bare.last_seen == 50 and bare.name == "" and bare.role == "user"
    await store.upsert_user(User(app=APP, user="ghost", name="Casper", created=1))
    await store.set_last_seen(APP, "ghost", 70)
    await store.set_last_seen(APP, "ghost", 60)  # out-of-order report from another node
    user = await store.get_user(APP, "ghost")
    assert user is not None and user.name == "Casper" and user.last_seen == 70 and user.created == 50


# conversations and members -------------------------------------------------


async def test_create_and_update_conversation(store: Store) -> None:
    c = conv(kind="group")
    created = await store.create_conversation(c, [member("alice", role="owner"), member("bob")])
    assert created == c
    assert await store.get_conversation(APP, "c1") == c
    assert await store.get_conversation(APP, "c2") is None
    assert [m.user for m in await store.list_members(APP, "c1")] == ["alice", "bob"]
    # Same id again: the stored one comes back, nothing changes.
    again = await store.create_conversation(conv(kind="support"), [member("carol")])
    assert again == c
    assert len(await store.list_members(APP, "c1")) == 2

    renamed = await store.update_conversation(APP, "c1", name="Team")
    assert renamed is not None and renamed.name == "Team" and renamed.meta == {}
    meta = await store.update_conversation(APP, "c1", meta={"topic": "x"})
    assert meta is not None and meta.name == "Team" and meta.meta == {"topic": "x"}
    assert await store.update_conversation(APP, "c1") == meta
    assert await store.update_conversation(APP, "nope", name="x") is None


async def test_direct_key_is_unique_per_app(store: Store) -> None:
    key = "alice\nbob"
    first = await store.create_conversation(
        conv("d1", kind="direct", direct_key=key), [member("alice", "d1"), member("bob", "d1")]
    )
    second = await store.create_conversation(
        conv("d2", kind="direct", direct_key=key), [member("alice", "d2"), member("bob", "d2")]
    )
    assert second == first
    assert await store.get_conversation(APP, "d2") is None
    assert await store.list_members(APP, "d2") == []
    # Groups carry no direct_key: any number of them may exist.
    await store.create_conversation(conv("g1"), [])
    await store.create_conversation(conv("g2"), [])
    assert await store.get_conversation(APP, "g2") is not None


async def test_concurrent_direct_creation_yields_one(make_store: MakeStore) -> None:
    a, b = await make_store(), await make_store()
    key = "x\ny"
    results = await asyncio.gather(
        *(
            s.create_conversation(conv(f"d{i}", kind="direct", direct_key=key), [member("x", f"d{i}")])
            for i, s in enumerate([a, b, a, b])
        )
    )
    assert len({r.conv for r in results}) == 1
    x_convs = await a.list_user_conversations(APP, "x")
    assert [c.conv for c, _ in x_convs] == [results[0].conv]


async def test_members(store: Store) -> None:
    await store.create_conversation(conv(), [member("alice", role="owner")])
    added = await store.add_members([member("alice", role="member"), member("bob"), member("carol")])
    assert [m.user for m in added] == ["bob", "carol"]
    alice = await store.get_member(APP, "c1", "alice")
    assert alice is not None and alice.role == "owner"  # existing ones left untouched
    assert await store.add_members([]) == []

    assert await store.set_member_role(APP, "c1", "bob", "admin")
    assert not await store.set_member_role(APP, "c1", "zed", "admin")
    bob = await store.get_member(APP, "c1", "bob")
    assert bob is not None and bob.role == "admin"

    assert sorted(await store.remove_members(APP, "c1", ["bob", "zed"])) == ["bob"]
    assert await store.get_member(APP, "c1", "bob") is None
    assert await store.remove_members(APP, "c1", []) == []
    assert [m.user for m in await store.list_members(APP, "c1")] == ["alice", "carol"]


async def test_set_read_only_moves_forward(store: Store) -> None:
    await store.create_conversation(conv(), [member("alice")])
    assert await store.set_read(APP, "c1", "alice", 5) == 5
    assert await store.set_read(APP, "c1", "alice", 3) == 5
    assert await store.set_read(APP, "c1", "alice", 9) == 9
    m = await store.get_member(APP, "c1", "alice")
    assert m is not None and m.read_seq == 9
    assert await store.set_read(APP, "c1", "stranger", 4) == 0  # not a member: nothing stored
    assert await store.get_member(APP, "c1", "stranger") is None


async def test_set_reads_moves_many_positions_forward_at_once(store: Store) -> None:
    await store.create_conversation(conv(), [member("alice"), member("bob")])
    await store.set_read(APP, "c1", "bob", 7)
    await store.set_reads([(APP, "c1", "alice", 4), (APP, "c1", "bob", 2), (APP, "c1", "stranger", 9)])
    alice, bob = await store.get_member(APP, "c1", "alice"), await store.get_member(APP, "c1", "bob")
    assert alice is not None and alice.read_seq == 4
    assert bob is not None and bob.read_seq == 7, "never backwards"
    assert await store.get_member(APP, "c1", "stranger") is None
    await store.set_reads([])


async def test_list_user_conversations_has_current_last_seq(store: Store) -> None:
    await store.create_conversation(conv("c2"), [member("alice", "c2"), member("bob", "c2")])
    await store.create_conversation(conv("c1"), [member("alice", "c1")])
    await store.create_conversation(conv("c3"), [member("bob", "c3")])
    await store.append([msg("1", conv_id="c2"), msg("2", conv_id="c2"), msg("3", conv_id="c1")])
    await store.set_read(APP, "c2", "alice", 1)
    listed = await store.list_user_conversations(APP, "alice")
    assert [(c.conv, c.last_seq, m.user, m.read_seq) for c, m in listed] == [
        ("c1", 1, "alice", 0),
        ("c2", 2, "alice", 1),
    ]
    assert await store.list_user_conversations(APP, "nobody") == []


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


# failures ------------------------------------------------------------------


async def test_sqlite_lock_timeout_is_unavailable(tmp_path) -> None:
    path = str(tmp_path / "locked.db")
    store = SQLiteStore(path, busy_timeout=0.05)
    await store.open()
    await store.create_conversation(conv(), [member("alice")])
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailable):
            await store.append([msg("a")])
        blocker.execute("ROLLBACK")
        (out,) = await store.append([msg("a")])
        assert out.message.seq == 1
    finally:
        blocker.close()
        await store.close()


@pytest.mark.mongo
async def test_mongo_unreachable_is_unavailable(mongo_db: str) -> None:
    store = MongoStore(
        f"mongodb://127.0.0.1:{free_port()}/?directConnection=true", mongo_db, server_selection_timeout_ms=200
    )
    with pytest.raises(StoreUnavailable):
        await store.open()
    with pytest.raises(RuntimeError):
        await store.ping()  # never opened


class _Proxy:
    """A TCP relay that can cut every connection, to lose a server the test shares."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.tasks: set[asyncio.Task[None]] = set()
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers += [writer, up_writer]
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    @staticmethod
    async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        except ConnectionError:
            pass
        finally:
            dst.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in self.writers:
            w.close()
        for t in list(self.tasks):
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.server.wait_closed()


@pytest.mark.mongo
async def test_mongo_lost_server_is_unavailable(mongo_url: str, mongo_db: str) -> None:
    nodes = parse_uri(mongo_url)["nodelist"]
    if len(nodes) != 1:
        pytest.skip("needs a single-host MONGO_URL to relay")
    proxy = _Proxy(*nodes[0])
    await proxy.start()
    store = MongoStore(
        f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true", mongo_db, server_selection_timeout_ms=300
    )
    try:
        await store.open()
        await store.ping()
        await proxy.stop()
        with pytest.raises(StoreUnavailable):
            await store.ping()
        with pytest.raises(StoreUnavailable):
            await store.append([msg("a")])
        with pytest.raises(StoreUnavailable):
            await store.get_conversation(APP, "c1")
    finally:
        await store.close()


@pytest.mark.mongo
async def test_mongo_resend_repairs_a_crashed_append(mongo_url: str, mongo_db: str) -> None:
    """A process that died between inserting and raising ``last_seq`` leaves no gap behind."""
    store = MongoStore(mongo_url, mongo_db)
    await store.open()
    try:
        await store.create_conversation(conv(), [member("alice")])
        crashed = [msg(f"k{i}") for i in range(3)]
        # What the dead process managed to write: the messages, not the conversation's last_seq.
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
        await client[mongo_db][MESSAGES].insert_many(
            [from_new_message(m, i + 1) for i, m in enumerate(crashed)]
        )
        await client.close()
        lagging = await store.get_conversation(APP, "c1")
        assert lagging is not None and lagging.last_seq == 0

        out = await store.append([*crashed, msg("new")])  # the client's resend, plus a new message
        assert [(r.message.seq, r.duplicate) for r in out] == [(1, True), (2, True), (3, True), (4, False)]
        repaired = await store.get_conversation(APP, "c1")
        assert repaired is not None and repaired.last_seq == 4
        assert await seqs(store) == [1, 2, 3, 4]
    finally:
        await store.close()


async def test_sqlite_unopenable_path_is_unavailable(tmp_path) -> None:
    store = SQLiteStore(str(tmp_path / "missing-dir" / "x.db"))
    with pytest.raises(StoreUnavailable):
        await store.open()
    with pytest.raises(RuntimeError):
        await store.ping()  # a failed open leaves the store closed
