"""Audience profiles on the MongoDB store: the schema record, profiles, tag history, the consent
ledger, and the chat ``Profiles`` port served from the same documents.

A role class of the MongoDB adapter over the store's one :class:`MongoConnection`. Implements
:class:`~parley.server.audience_port.AudienceProfiles` and
:class:`~parley.server.store_ports.Profiles`. No transactions: a change is a compare-and-set of
the whole profile document on its ``rev`` (re-read and retried when another write got there
first), so it is all or nothing and never lands on a profile merged meanwhile. Its tag-history
and ledger lines are inserted right after, with ids derived from ``(pid, rev)`` (idempotent).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from parley.server.audience_models import (
    AlreadyApplied,
    AudienceProfile,
    ConsentEntry,
    Identifier,
    ProfileChange,
    ProfileMerged,
    ProfileNotFound,
    TagChange,
)
from parley.server.audience_rules import apply_change, chat_view
from parley.server.ids import new_id, now_ms
from parley.server.models import Profile, TagRecord
from parley.server.ports import StoreUnavailable
from parley.server.store.mongo_audience_docs import (
    CONSENT_LEDGER,
    IDENTIFIERS,
    PROFILES,
    SCHEMAS,
    TAG_HISTORY,
    escape,
    from_profile,
    profile_id,
    to_profile,
)
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_errors import guarded
from parley.server.store.mongo_service import legacy_profile

__all__ = ["CAS_TRIES", "MAX_HOPS", "AudienceCollections", "ProfileDocs"]

#: Compare-and-set attempts before giving up with ``StoreUnavailable`` (only under heavy contention).
CAS_TRIES = 50
#: ``merged_into`` hops a resolution follows.
MAX_HOPS = 32
NO_ID = {"_id": 0}


class ProfileDocs:
    """Reads, compare-and-set writes and identifier look-ups of ``aud_profiles`` shared by the
    audience and identity roles."""

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    @property
    def db(self) -> AsyncDatabase[dict[str, Any]]:
        """The database (after ``open``)."""
        return self._conn.db

    async def read(self, app: str, pid: str) -> AudienceProfile | None:
        """The stored profile; None if there is none."""
        doc = await self.db[PROFILES].find_one({"_id": profile_id(app, pid)})
        return to_profile(doc) if doc else None

    async def live(self, app: str, pid: str) -> AudienceProfile:
        """The stored profile if live; ``ProfileNotFound`` / ``ProfileMerged`` otherwise."""
        profile = await self.read(app, pid)
        if profile is None:
            raise ProfileNotFound(app, pid)
        if profile.merged_into:
            raise ProfileMerged(pid, profile.merged_into)
        return profile

    async def cas(self, before: AudienceProfile, after: AudienceProfile) -> bool:
        """Replace ``before`` by ``after`` only if its ``rev`` is still ``before.rev``."""
        result = await self.db[PROFILES].replace_one(
            {"_id": profile_id(before.app, before.pid), "rev": before.rev}, from_profile(after)
        )
        return result.matched_count == 1

    async def follow(self, app: str, pid: str) -> str | None:
        """``pid`` after following ``merged_into``; None if a profile on the way is missing."""
        for _ in range(MAX_HOPS):
            doc = await self.db[PROFILES].find_one({"_id": profile_id(app, pid)}, {"merged_into": 1})
            if doc is None:
                return None
            if not doc.get("merged_into"):
                return pid
            pid = doc["merged_into"]
        raise RuntimeError(f"merged_into chain longer than {MAX_HOPS} from {pid!r}")

    async def holder(self, app: str, kind: str, value: str) -> str | None:
        """The live holder of an identifier; None if nobody holds it."""
        doc = await self.db[IDENTIFIERS].find_one({"_id": f"{app}/{kind}/{value}"})
        return await self.follow(app, doc["pid"]) if doc else None

    async def resolve_or_create(self, app: str, kind: str, value: str, now: int) -> tuple[str, bool]:
        """The holder, or a new profile holding it: the profile document is inserted first, then
        the identifier (unique ``_id``); the loser of a race deletes its unused profile."""
        for _ in range(CAS_TRIES):
            held = await self.holder(app, kind, value)
            if held is not None:
                return held, False
            pid = new_id("p")
            await self.db[PROFILES].insert_one(
                from_profile(AudienceProfile(app, pid, now, now, ids=(Identifier(kind, value),)))
            )
            try:
                await self.db[IDENTIFIERS].insert_one(
                    {
                        "_id": f"{app}/{kind}/{value}",
                        "app": app,
                        "kind": kind,
                        "value": value,
                        "pid": pid,
                        "ts": now,
                    }
                )
            except DuplicateKeyError:
                found = await self.db[IDENTIFIERS].find_one({"_id": f"{app}/{kind}/{value}"}, {"pid": 1})
                if found is not None and found["pid"] == pid:
                    return pid, True  # our own insert, retried after it landed (the answer was lost)
                await self.db[PROFILES].delete_one({"_id": profile_id(app, pid)})
                continue
            return pid, True
        raise StoreUnavailable("resolve_or_create kept racing; retry")

    async def change(self, app: str, pid: str, change: ProfileChange) -> AudienceProfile:
        """Apply ``change`` by compare-and-set, then append its history and ledger lines."""
        for _ in range(CAS_TRIES):
            current = await self.live(app, pid)
            done = frozenset(change.events).intersection(current.applied)
            if done:  # checked on the read the compare-and-set is made against: once per event
                raise AlreadyApplied(pid, done)
            updated, history, ledger = apply_change(current, change)
            if await self.cas(current, updated):
                await self._lines(app, pid, updated.rev, history, ledger)
                return updated
        raise StoreUnavailable("profile update kept racing with other writers; retry")

    async def _lines(
        self, app: str, pid: str, rev: int, history: list[TagChange], ledger: list[ConsentEntry]
    ) -> None:
        base = f"{app}/{pid}/{rev}"
        if history:
            await self._insert_once(TAG_HISTORY,
                [{"_id": f"{base}/{n}", "app": app, "pid": pid, "name": h.name, "seq": h.seq, "n": n,
                  "action": h.action, "source": h.source, "confidence": h.confidence, "evidence": h.evidence,
                  "ts": h.ts, "actor": h.actor} for n, h in enumerate(history)]
            )  # fmt: skip
        if ledger:
            await self._insert_once(CONSENT_LEDGER,
                [{"_id": f"{base}/{n}", "app": app, "pid": pid, "topic": e.topic, "state": e.state, "ts": e.ts,
                  "via_kind": e.via_kind, "via_ref": e.via_ref, "rev": rev, "n": n} for n, e in enumerate(ledger)]
            )  # fmt: skip

    async def _insert_once(self, name: str, docs: list[dict[str, Any]]) -> None:
        """Insert lines keyed ``app/pid/rev/n``; one already there is the same line, not an error
        (a retried write whose first attempt landed: the test server does not dedupe retries)."""
        try:
            await self.db[name].insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise


class AudienceCollections:
    """The MongoDB adapter's :class:`~parley.server.audience_port.AudienceProfiles` role and the
    chat :class:`~parley.server.store_ports.Profiles` role on the same documents."""

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn
        self._docs = ProfileDocs(conn)

    @guarded
    async def put_audience_schema(self, app: str, doc: Mapping[str, Any], now: int) -> int:
        """Replace the schema document (kept as JSON text: event names may hold dots), version + 1."""
        result = await self._docs.db[SCHEMAS].find_one_and_update(
            {"_id": app},
            {"$set": {"doc": json.dumps(doc, sort_keys=True), "updated": now}, "$inc": {"version": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if result is None:  # SecantusDB may apply an upsert and answer "no document"
            result = await self._docs.db[SCHEMAS].find_one({"_id": app})
        await self._index_attributes(doc)
        return int(result["version"]) if result else 1

    async def _index_attributes(self, doc: Mapping[str, Any]) -> None:
        """Create ``(app, attrs.<name>)`` for each attribute the schema marks ``indexed`` (named as
        the segment compiler names the index it would make itself, so the two never clash)."""
        attributes = doc.get("attributes")
        for name, spec in attributes.items() if isinstance(attributes, Mapping) else ():
            if isinstance(spec, Mapping) and spec.get("indexed") is True:
                key = f"attrs.{escape(str(name))}"
                await self._docs.db[PROFILES].create_index([("app", 1), (key, 1)], name=f"seg_{key}")

    @guarded
    async def get_audience_schema(self, app: str) -> tuple[int, dict[str, Any]] | None:
        """The app's schema version and document; None until one was put."""
        doc = await self._docs.db[SCHEMAS].find_one({"_id": app})
        return (int(doc["version"]), json.loads(doc["doc"])) if doc else None

    @guarded
    async def get_audience_profile(self, app: str, pid: str) -> AudienceProfile | None:
        """The profile as stored (one document read); None if there is none."""
        return await self._docs.read(app, pid)

    @guarded
    async def update_audience_profile(self, app: str, pid: str, change: ProfileChange) -> AudienceProfile:
        """Apply ``change`` by compare-and-set on ``rev`` (see the module docstring)."""
        return await self._docs.change(app, pid, change)

    @guarded
    async def tag_history(self, app: str, pid: str, name: str = "") -> list[TagChange]:
        """The profile's tag history (of ``name`` if given), by seq."""
        query: dict[str, Any] = {"app": app, "pid": pid}
        if name:
            query["name"] = name
        docs = await self._docs.db[TAG_HISTORY].find(query).to_list()
        docs.sort(key=lambda d: (d["seq"], d["n"]))
        return [TagChange(d["name"], int(d["seq"]), d["action"], d["source"], float(d["confidence"]), d["evidence"],
                          int(d["ts"]), d["actor"]) for d in docs]  # fmt: skip

    @guarded
    async def consent_ledger(self, app: str, pid: str, topic: str = "") -> list[ConsentEntry]:
        """The profile's consent ledger (of ``topic`` if given), in the order recorded."""
        query: dict[str, Any] = {"app": app, "pid": pid}
        if topic:
            query["topic"] = topic
        docs = await self._docs.db[CONSENT_LEDGER].find(query).to_list()
        docs.sort(key=lambda d: (d["rev"], d["n"]))
        return [ConsentEntry(d["topic"], d["state"], int(d["ts"]), d["via_kind"], d["via_ref"]) for d in docs]

    @guarded
    async def get_profile(self, app: str, user: str) -> Profile | None:
        """The chat view of the profile holding identifier ``user``; None until one exists."""
        pid = await self._docs.holder(app, "user", user)
        profile = await self._docs.read(app, pid) if pid else None
        return chat_view(profile, user) if profile else None

    @guarded
    async def merge_profile(
        self,
        app: str,
        user: str,
        *,
        set_tags: Sequence[TagRecord] = (),
        remove_tags: Collection[str] = (),
        attributes: Mapping[str, Any] | None = None,
        counters: Mapping[str, int] | None = None,
        updated: int = 0,
    ) -> Profile:
        """Chat changes to the profile holding identifier ``user`` (created if missing): one
        compare-and-set, re-resolved if the profile is merged meanwhile."""
        change = ProfileChange(
            now=updated,
            actor="chat",
            set_tags=tuple(set_tags),
            remove_tags=tuple(n for n in remove_tags if n not in {t.name for t in set_tags}),
            chat_attributes=dict(attributes or {}),
            chat_counters=dict(counters or {}),
        )
        for _ in range(CAS_TRIES):
            pid, _created = await self._docs.resolve_or_create(app, "user", user, updated or now_ms())
            try:
                return chat_view(await self._docs.change(app, pid, change), user)
            except ProfileMerged:
                continue  # merged between the resolution and the write: resolve again
        raise StoreUnavailable("chat profile update kept racing with merges; retry")

    async def migrate_chat_profiles(self) -> None:
        """Move documents of the old ``profiles`` collection (chat profiles by user) onto
        ``aud_profiles``, each deleted once moved (so a second run finds nothing)."""
        async for doc in self._docs.db["profiles"].find({}):
            old = legacy_profile(doc)
            await self.merge_profile(
                old.app, old.user, set_tags=list(old.tags.values()), attributes=old.attributes,
                counters=old.counters, updated=old.updated,
            )  # fmt: skip
            await self._docs.db["profiles"].delete_one({"_id": doc["_id"]})
