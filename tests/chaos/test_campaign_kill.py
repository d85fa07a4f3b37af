"""kill -9 of the node sending a campaign (5 000 profiles on SQLite, 1 000 on the MongoDB wire server:
see ``COUNTS``), mid-send, then a restart: every eligible
recipient has the message exactly once, no control, hold-out or opted-out profile has it (counted
from the messages stored in each recipient's conversation with the brand, not from the ledger)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from parley.proto.campaign import read_marker
from parley.proto.templates import Content, Template
from parley.server.audience_models import ConsentEntry, ProfileChange
from parley.server.campaign_port import Campaign
from parley.server.ids import now_ms
from parley.server.ports import Store
from parley.server.services.apps import AppService
from parley.server.services.campaign_defs import CampaignIn, Variant
from parley.server.services.policy_rules import PolicySettings, bucket
from parley.server.store import open_store
from parley.server.store.sqlite import SQLiteStore
from tests.chaos.conftest import MongoHandle
from tests.chaos.procs import _BIN, GatewayProcess

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(600)]

#: Profiles per store. SQLite: the issue's 5 000. The MongoDB wire server of the tests sends ~11-25
#: recipients a second on this shared machine (docs/BENCHMARKS.md), so 5 000 would take 4-8 minutes
#: of the suite; 1 000 crosses the same kill, lease expiry and retake in about two.
COUNTS = {"sqlite": 5_000, "mongo": 1_000}
OPTED_OUT_EVERY = 10  # every tenth profile withdrew its consent
CONTROL_PCT = 5.0
HOLDOUT_PCT = 10.0
RATE = 400  # recipients per second: 12+ s of sending, so the kill lands mid-send


class SQLiteNode(GatewayProcess):
    """A ``parley serve`` process on a SQLite file, the in-process broker."""

    def __init__(self, db: Path, log_dir: Path) -> None:
        super().__init__("sender", redis_url="", mongo_url="", mongo_database="", log_dir=log_dir,
                         env={"PARLEY_CAMPAIGN_INTERVAL": "0.2"})  # fmt: skip
        self.db = db

    def command(self) -> list[str]:
        """``parley serve`` on the SQLite file, the in-process broker."""
        return [str(_BIN / "parley"), "serve", "--port", str(self.port), "--sqlite-path", str(self.db),
                "--node-id", self.node_id, "--log-level", "warning"]  # fmt: skip


class MongoNode(GatewayProcess):
    """A ``parley serve`` process on the MongoDB wire server, the in-process broker."""

    def __init__(self, url: str, database: str, log_dir: Path) -> None:
        super().__init__("sender", redis_url="", mongo_url=url, mongo_database=database, log_dir=log_dir,
                         env={"PARLEY_CAMPAIGN_INTERVAL": "0.2"})  # fmt: skip

    def command(self) -> list[str]:
        """``parley serve`` on the Mongo database, the in-process broker."""
        return [str(_BIN / "parley"), "serve", "--port", str(self.port), "--mongo-url", self.mongo_url,
                "--mongo-database", self.mongo_database, "--node-id", self.node_id, "--log-level", "warning"]  # fmt: skip


async def seed(store: Store, app: str, count: int) -> dict[str, str]:
    """The profiles (user -> pid): consenting, except every tenth, withdrawn."""
    pids: dict[str, str] = {}

    async def one(i: int) -> None:
        user = f"c{i:05d}"
        pid, _ = await store.resolve_or_create(app, "user", user, 1)
        state = "withdrawn" if i % OPTED_OUT_EVERY == 0 else "granted"
        change = ProfileChange(now=1, consent=(ConsentEntry("marketing", state, 1, "api", "chaos"),))
        await store.update_audience_profile(app, pid, change)
        pids[user] = pid

    for start in range(0, count, 100):
        await asyncio.gather(*(one(i) for i in range(start, min(start + 100, count))))
    return pids


async def messages_per_user(store: Store, app: str, users: list[str], cid: str) -> Counter[str]:
    """How many messages of campaign ``cid`` each user has in their conversations (from the store)."""
    got: Counter[str] = Counter()

    async def one(user: str) -> None:
        for conv, _ in await store.list_user_conversations(app, user):
            for m in await store.get_messages(app, conv.conv, 1, conv.last_seq):
                marker = read_marker(m.body)
                if marker is not None and marker.id == cid:
                    got[user] += 1

    for start in range(0, len(users), 100):
        await asyncio.gather(*(one(u) for u in users[start : start + 100]))
    return got


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
async def sender(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Store, GatewayProcess, int]]:
    """The store (opened here too, to seed and count) and the sender node on it, not started."""
    store: Store
    node: GatewayProcess
    if request.param == "sqlite":
        store = SQLiteStore(str(tmp_path / "parley.db"))
        node = SQLiteNode(tmp_path / "parley.db", tmp_path)
    else:
        mongo: MongoHandle = request.getfixturevalue("chaos_mongo")
        database = f"parley_chaos_{uuid.uuid4().hex[:10]}"
        store = open_store(mongo.url, sqlite_path="", mongo_database=database, timeout=30.0)
        node = MongoNode(mongo.url, database, tmp_path)
    await store.open()
    try:
        yield store, node, COUNTS[request.param]
    finally:
        node.stop()
        await store.close()


async def test_kill_9_of_the_campaign_sender_mid_send(sender: tuple[Store, GatewayProcess, int]) -> None:
    await scenario(*sender)


async def scenario(store: Store, sender: GatewayProcess, count: int) -> None:
    app = (await AppService(store, audience="parley").create_app("chaos")).app.app
    t0 = time.monotonic()
    pids = await seed(store, app, count)
    print(f"[chaos] seeded {count} profiles in {time.monotonic() - t0:.1f} s")
    await store.put_send_policy(app, PolicySettings(control_pct=CONTROL_PCT).to_json())
    template = Template(versions={"en": Content(text="Winter sale")}, default="en")
    definition = CampaignIn(
        name="chaos", topic="marketing", variants=[Variant("a", 100, template)], pids=sorted(pids.values()),
        holdout_pct=HOLDOUT_PCT, rate=RATE,
    )  # fmt: skip
    cid = "cmp_chaos"
    now = now_ms()
    doc = msgspec.to_builtins(definition)
    assert await store.create_campaign(Campaign(app, cid, "scheduled", now, doc, created=now, updated=now))
    await asyncio.to_thread(sender.start)
    key = f"campaign:{cid}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        decided = sum((await store.count_deliveries(app, key)).values())
        if decided >= count // 4:
            break
        await asyncio.sleep(0.05)
    sender.kill9()
    ledger_at_kill = await store.count_deliveries(app, key)
    at_kill = sum(ledger_at_kill.values())
    assert at_kill < count, "the kill came after the send: nothing was tested"
    started = time.monotonic()
    # same node id and port; the dead sender's leases (campaign 30 s, claim 60 s) have to expire first
    await asyncio.to_thread(sender.start)
    deadline = time.monotonic() + 420  # the MongoDB wire server's sender is the slow one
    while time.monotonic() < deadline:
        campaign = await store.get_campaign(app, cid)
        if campaign is not None and campaign.state == "done":
            break
        await asyncio.sleep(0.1)
    assert campaign is not None and campaign.state == "done", sender.log_tail()
    recovery = time.monotonic() - started
    outcomes = await store.count_deliveries(app, key)
    got = await messages_per_user(store, app, sorted(pids), cid)
    opted = {u for u in pids if int(u[1:]) % OPTED_OUT_EVERY == 0}
    control = {u for u in pids if u not in opted and bucket(f"control:{app}", pids[u]) < CONTROL_PCT}
    held = {u for u in pids if u not in opted | control and bucket(f"holdout:{cid}", pids[u]) < HOLDOUT_PCT}
    eligible = set(pids) - opted - control - held
    once = sum(1 for u in eligible if got[u] == 1)
    twice = sum(1 for u in eligible if got[u] > 1)
    missing = sum(1 for u in eligible if got[u] == 0)
    leaked = sum(got[u] for u in opted | control | held)
    print(
        f"[chaos] campaign kill -9 ({type(store).__name__}): {count} profiles, killed after {at_kill} claims "
        f"({ledger_at_kill.get('pending', 0)} pending), done "
        f"{recovery:.1f} s after the restart; eligible {len(eligible)}: exactly once {once}, "
        f"twice or more {twice}, missing {missing}; control {len(control)} + hold-out {len(held)} + "
        f"opted out {len(opted)} got {leaked}; ledger {dict(sorted(outcomes.items()))}"
    )
    assert (once, twice, missing, leaked) == (len(eligible), 0, 0, 0), sender.log_tail()
    assert outcomes == {
        "sent": len(eligible), "control": len(control), "holdout": len(held), "no_consent": len(opted)
    }  # fmt: skip
