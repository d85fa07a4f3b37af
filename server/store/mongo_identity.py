"""Identifiers and merges (One ID) on the MongoDB store.

A role class of the MongoDB adapter over the store's one :class:`MongoConnection`. Implements
:class:`~parley.server.audience_port.Identities` without transactions:

* an identifier is one ``aud_identifiers`` document with ``_id`` ``<app>/<kind>/<value>``
  (unique: one holder), pointing at a pid that resolution follows through ``merged_into``;
* a merge (or unmerge) first takes a lease on both profiles (``aud_locks``, in pid order, with
  an expiry so a crashed holder does not block forever), so two merges touching one profile
  never interleave; ordinary writes take no lease and are fenced by the profiles' ``rev``:
  the loser is closed by a compare-and-set that keeps its data (a write that lost the race
  re-reads, sees it merged and goes to the survivor), then that snapshot is folded into the
  survivor by a compare-and-set retried until it lands, then the record (with both snapshots)
  is stored, its identifiers move, and only then is the closed loser emptied. A crash part-way
  leaves the loser's data on the closed loser (never only in memory); resolution already
  follows ``merged_into`` to the survivor, and a marker (``aud_merge_pending``, written before
  the loser is closed) lets ``repair_merges`` (run by ``open``) finish it once its lease expired:
  each step is idempotent (the fold is skipped for a survivor listing the loser in ``merged_from``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pymongo.errors import DuplicateKeyError

from parley.server.audience_models import AudienceProfile, Identifier, MergeRecord, ProfileMerged
from parley.server.audience_rules import decode_merge, encode_merge, merge_profiles, unmerge_survivor
from parley.server.ports import StoreUnavailable
from parley.server.store.mongo_audience import CAS_TRIES, ProfileDocs
from parley.server.store.mongo_audience_docs import (
    IDENTIFIERS,
    LOCKS,
    MERGES,
    PENDING,
    PROFILES,
    from_profile,
    profile_id,
)
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_errors import guarded

__all__ = ["LEASE_MS", "IdentityCollections"]

#: How long a merge's lease on a profile lasts if its holder dies (ms).
LEASE_MS = 30_000


class IdentityCollections:
    """The MongoDB adapter's :class:`~parley.server.audience_port.Identities` role."""

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn
        self._docs = ProfileDocs(conn)

    @guarded
    async def resolve_identifier(self, app: str, kind: str, value: str) -> str | None:
        """The live holder of the identifier; None if nobody holds it."""
        return await self._docs.holder(app, kind, value)

    @guarded
    async def resolve_or_create(self, app: str, kind: str, value: str, now: int) -> tuple[str, bool]:
        """See :meth:`ProfileDocs.resolve_or_create`."""
        return await self._docs.resolve_or_create(app, kind, value, now)

    @guarded
    async def attach_identifier(self, app: str, pid: str, kind: str, value: str, now: int) -> str:
        """Insert the identifier document for live ``pid`` (unique ``_id``: the holder wins), then
        add it to the profile's ``ids`` (with a ``rev`` bump, so no compare-and-set drops it)."""
        await self._docs.live(app, pid)
        try:
            await self._docs.db[IDENTIFIERS].insert_one(
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
            held = await self._docs.holder(app, kind, value)
            return held or pid
        live = await self._docs.follow(app, pid) or pid
        await self._docs.db[PROFILES].update_one(
            {"_id": profile_id(app, live)},
            {"$addToSet": {"ids": {"kind": kind, "value": value}}, "$inc": {"rev": 1}},
        )
        return live

    @guarded
    async def identifiers_of(self, app: str, pid: str) -> list[Identifier]:
        """The identifiers ``pid`` holds, by kind then value."""
        docs = await self._docs.db[IDENTIFIERS].find({"app": app, "pid": pid}).to_list()
        return [Identifier(k, v) for k, v in sorted((d["kind"], d["value"]) for d in docs)]

    async def _lease(self, app: str, pids: list[str], owner: str, now: int) -> None:
        """Take the lease of each pid (sorted, so two merges never wait on each other in a cycle)."""
        for pid in sorted(pids):
            key = f"{app}/{pid}"
            for attempt in range(200):
                try:
                    await self._docs.db[LOCKS].insert_one(
                        {"_id": key, "owner": owner, "expires": now + LEASE_MS}
                    )
                    break
                except DuplicateKeyError:
                    stale = await self._docs.db[LOCKS].find_one_and_update(
                        {"_id": key, "expires": {"$lt": now}},
                        {"$set": {"owner": owner, "expires": now + LEASE_MS}},
                    )
                    if stale is not None:
                        break
                    await asyncio.sleep(min(0.001 * (attempt + 1), 0.05))
            else:
                await self._release(app, pids, owner)
                raise StoreUnavailable("a concurrent merge holds the profile; retry")

    async def _release(self, app: str, pids: list[str], owner: str) -> None:
        await self._docs.db[LOCKS].delete_many({"_id": {"$in": [f"{app}/{p}" for p in pids]}, "owner": owner})

    async def _close_loser(self, app: str, loser: str, winner: str, now: int) -> AudienceProfile:
        """Mark the live loser merged by compare-and-set; returns its state at that moment."""
        for _ in range(CAS_TRIES):
            lose = await self._docs.live(app, loser)
            if await self._docs.cas(lose, replace(lose, merged_into=winner, rev=lose.rev + 1)):
                return lose
        raise StoreUnavailable("merge kept racing with writes to the merged profile; retry")

    async def _fold(self, app: str, winner: str, loser: AudienceProfile, now: int) -> AudienceProfile:
        """Fold the loser's snapshot into the live winner by compare-and-set; returns the winner before.
        Idempotent: a winner that lists the loser in ``merged_from`` has it already (a repair)."""
        for _ in range(CAS_TRIES):
            w = await self._docs.live(app, winner)
            if loser.pid in w.merged_from or await self._docs.cas(w, merge_profiles(w, loser, now)):
                return w
        raise StoreUnavailable("merge kept racing with writes to the surviving profile; retry")

    async def _finish(self, app: str, pending: Mapping[str, Any], now: int) -> MergeRecord | None:
        """Do what is left of a merge whose loser is closed (each step idempotent): fold its data
        (kept on the closed loser until the end) into the winner, store the record, move the
        identifiers, empty the loser, drop the pending marker. None if the loser was never closed."""
        mid, winner, loser = pending["mid"], pending["winner"], pending["loser"]
        closed = await self._docs.read(app, loser)
        done = await self.get_merge(app, mid)
        if done is None:
            if closed is None or closed.merged_into != winner:
                await self._docs.db[PENDING].delete_one({"_id": pending["_id"]})
                return None  # it stopped before closing the loser: nothing happened
            snapshot = replace(closed, merged_into="", rev=closed.rev - 1)
            before = await self._fold(app, winner, snapshot, now)
            matched = tuple(Identifier(k, v) for k, v in pending["matched"])
            done = MergeRecord(app, mid, winner, loser, matched, pending["reason"], pending["actor"], int(pending["ts"]),
                               before, snapshot, snapshot.ids)  # fmt: skip
            await self._docs.db[MERGES].replace_one({"_id": f"{app}/{mid}"}, _merge_doc(done), upsert=True)
        await self._docs.db[IDENTIFIERS].update_many({"app": app, "pid": loser}, {"$set": {"pid": winner}})
        if closed is not None and closed.merged_into == winner:
            # Emptied last (segments see live profiles only); nothing but a merge writes a closed profile.
            empty = AudienceProfile(app, loser, closed.created, now, merged_into=winner, rev=closed.rev + 1)
            await self._docs.db[PROFILES].replace_one({"_id": profile_id(app, loser)}, from_profile(empty))
        await self._docs.db[PENDING].delete_one({"_id": pending["_id"]})
        return done

    async def repair_merges(self, now: int) -> int:
        """Finish merges a crashed process left half-done (their leases expired); returns how many."""
        repaired = 0
        async for pending in self._docs.db[PENDING].find({"ts": {"$lt": now - LEASE_MS}}):
            app, pids, owner = (
                pending["app"],
                [pending["winner"], pending["loser"]],
                f"repair{pending['mid']}",
            )
            try:
                await self._lease(app, pids, owner, now)
            except StoreUnavailable:
                continue  # somebody holds it: they are finishing it
            try:
                repaired += await self._finish(app, pending, now) is not None
            finally:
                await self._release(app, pids, owner)
        return repaired

    @guarded
    async def merge_audience_profiles(
        self,
        app: str,
        winner: str,
        loser: str,
        *,
        matched: tuple[Identifier, ...],
        reason: str,
        actor: str,
        mid: str,
        now: int,
    ) -> MergeRecord:
        """Merge under both leases (see the module docstring)."""
        if winner == loser:
            raise ProfileMerged(loser, winner)
        await self._lease(app, [winner, loser], mid, now)
        try:
            await self._docs.live(app, winner)
            await self._docs.live(app, loser)
            # The marker first: a crash from here on is finished by ``repair_merges``.
            pending = {"_id": f"{app}/{mid}", "app": app, "mid": mid, "winner": winner, "loser": loser, "ts": now,
                       "matched": [[i.kind, i.value] for i in matched], "reason": reason, "actor": actor}  # fmt: skip
            await self._docs.db[PENDING].insert_one(pending)
            try:
                await self._close_loser(app, loser, winner, now)
            except BaseException:
                await self._docs.db[PENDING].delete_one({"_id": pending["_id"]})
                raise
            record = await self._finish(app, pending, now)
            if record is None:  # cannot happen under our lease: the loser was just closed
                raise StoreUnavailable("the merged profile changed under the merge's lease; retry")
            return record
        finally:
            await self._release(app, [winner, loser], mid)

    @guarded
    async def unmerge_audience_profiles(self, app: str, mid: str, now: int) -> MergeRecord | None:
        """Undo under both leases: revive the loser, give back what the survivor took."""
        record = await self.get_merge(app, mid)
        if record is None or record.undone:
            return None
        owner = f"un{mid}"
        await self._lease(app, [record.winner, record.loser], owner, now)
        try:
            for _ in range(CAS_TRIES):
                survivor = await self._docs.read(app, record.winner)
                if survivor is None or survivor.merged_into:
                    return None
                if await self._docs.cas(survivor, unmerge_survivor(survivor, record, now)):
                    break
            else:
                raise StoreUnavailable("unmerge kept racing with writes to the survivor; retry")
            shell = await self._docs.read(app, record.loser)
            rev = max(record.loser_before.rev, shell.rev if shell else 0) + 1
            revived = replace(record.loser_before, merged_into="", rev=rev, updated=now)
            await self._docs.db[PROFILES].replace_one(
                {"_id": profile_id(app, record.loser)}, from_profile(revived), upsert=True
            )
            for i in record.moved:
                await self._docs.db[IDENTIFIERS].update_one(
                    {"_id": f"{app}/{i.kind}/{i.value}", "pid": record.winner},
                    {"$set": {"pid": record.loser}},
                )
            done = replace(record, undone=now)
            await self._docs.db[MERGES].replace_one({"_id": f"{app}/{mid}"}, _merge_doc(done))
            return done
        finally:
            await self._release(app, [record.winner, record.loser], owner)

    @guarded
    async def list_merges(self, app: str, pid: str) -> list[MergeRecord]:
        """The merges ``pid`` took part in, newest first."""
        docs = await self._docs.db[MERGES].find({"app": app, "winner": pid}).to_list()
        docs += await self._docs.db[MERGES].find({"app": app, "loser": pid}).to_list()
        records = [decode_merge(d["record"]) for d in docs]
        return sorted(records, key=lambda r: (r.ts, r.mid), reverse=True)

    @guarded
    async def get_merge(self, app: str, mid: str) -> MergeRecord | None:
        """The merge record ``mid``; None if there is none."""
        doc = await self._docs.db[MERGES].find_one({"_id": f"{app}/{mid}"})
        return decode_merge(doc["record"]) if doc else None

    @guarded
    async def count_merges_matching(self, app: str, kind: str, value: str) -> int:
        """Standing (not undone) merges that matched on the identifier."""
        return await self._docs.db[MERGES].count_documents(
            {"app": app, "matches": f"{kind}/{value}", "undone": 0}
        )


def _merge_doc(r: MergeRecord) -> dict[str, Any]:
    return {
        "_id": f"{r.app}/{r.mid}", "app": r.app, "mid": r.mid, "winner": r.winner, "loser": r.loser, "ts": r.ts,
        "undone": r.undone, "matches": [f"{i.kind}/{i.value}" for i in r.matched], "record": encode_merge(r),
    }  # fmt: skip
