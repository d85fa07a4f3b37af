"""Identifiers and merges (One ID) on the SQLite store.

A role class of the SQLite adapter over the store's one :class:`SQLiteWorker`. Implements
:class:`~parley.server.audience_port.Identities`. Every call that writes is one
``BEGIN IMMEDIATE`` transaction, so a merge (read both profiles, write the survivor, mark the
loser, move identifiers, store the record) is all or nothing and serialised with every other
write on any store instance of the file: a write to the loser either lands before the merge
(and is merged) or sees ``ProfileMerged`` after it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from parley.server.audience_models import (
    AudienceProfile,
    Identifier,
    MergeRecord,
    ProfileMerged,
    ProfileNotFound,
)
from parley.server.audience_rules import decode_merge, encode_merge, merge_profiles, unmerge_survivor
from parley.server.ids import new_id
from parley.server.store.sqlite_audience import in_transaction
from parley.server.store.sqlite_audience_rows import live_pid, read_profile, write_profile
from parley.server.store.sqlite_worker import SQLiteWorker

__all__ = ["IdentityTables"]

Db = sqlite3.Connection


def _holder(db: Db, app: str, kind: str, value: str) -> str | None:
    row = db.execute(
        "SELECT pid FROM aud_identifiers WHERE app = ? AND kind = ? AND value = ?", (app, kind, value)
    ).fetchone()
    return live_pid(db, app, row[0]) if row else None


def _live(db: Db, app: str, pid: str) -> AudienceProfile:
    profile = read_profile(db, app, pid)
    if profile is None:
        raise ProfileNotFound(app, pid)
    if profile.merged_into:
        raise ProfileMerged(pid, profile.merged_into)
    return profile


class IdentityTables:
    """The SQLite adapter's :class:`~parley.server.audience_port.Identities` role."""

    def __init__(self, worker: SQLiteWorker) -> None:
        self._run = worker.run

    async def resolve_identifier(self, app: str, kind: str, value: str) -> str | None:
        """The live holder of the identifier (one worker job); None if nobody holds it."""
        pid: str | None = await self._run(lambda db: _holder(db, app, kind, value))
        return pid

    async def resolve_or_create(self, app: str, kind: str, value: str, now: int) -> tuple[str, bool]:
        """Look up, or insert identifier and empty profile, in one transaction (the primary key
        ``(app, kind, value)`` and the write lock make it atomic across store instances)."""

        def resolve(db: Db) -> tuple[str, bool]:
            held = _holder(db, app, kind, value)
            if held is not None:
                return held, False
            pid = new_id("p")
            db.execute(
                "DELETE FROM aud_identifiers WHERE app = ? AND kind = ? AND value = ?", (app, kind, value)
            )
            db.execute("INSERT INTO aud_identifiers VALUES (?, ?, ?, ?, ?)", (app, kind, value, pid, now))
            write_profile(db, AudienceProfile(app, pid, now, now))
            return pid, True

        result: tuple[str, bool] = await self._run(lambda db: in_transaction(db, lambda: resolve(db)))
        return result

    async def attach_identifier(self, app: str, pid: str, kind: str, value: str, now: int) -> str:
        """Insert the identifier for ``pid`` unless a live profile holds it (one transaction)."""

        def attach(db: Db) -> str:
            _live(db, app, pid)
            held = _holder(db, app, kind, value)
            if held is not None:
                return held
            db.execute(
                "INSERT OR REPLACE INTO aud_identifiers VALUES (?, ?, ?, ?, ?)", (app, kind, value, pid, now)
            )
            return pid

        result: str = await self._run(lambda db: in_transaction(db, lambda: attach(db)))
        return result

    async def identifiers_of(self, app: str, pid: str) -> list[Identifier]:
        """The identifiers ``pid`` holds, by kind then value."""
        # sorted here: ORDER BY would walk every identifier of the app (see ``read_profile``)
        sql = "SELECT kind, value FROM aud_identifiers WHERE app = ? AND pid = ?"
        rows = await self._run(lambda db: db.execute(sql, (app, pid)).fetchall())
        return [Identifier(k, v) for k, v in sorted(rows)]

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
        """Merge in one transaction (see the module docstring)."""

        def merge(db: Db) -> MergeRecord:
            if winner == loser:
                raise ProfileMerged(loser, winner)
            w, lose = _live(db, app, winner), _live(db, app, loser)
            merged = merge_profiles(w, lose, now)
            write_profile(db, merged)
            # The loser keeps no data rows (its snapshot is in the record): segments see live ones only.
            write_profile(
                db, AudienceProfile(app, loser, lose.created, now, merged_into=winner, rev=lose.rev + 1)
            )
            db.execute("UPDATE aud_identifiers SET pid = ? WHERE app = ? AND pid = ?", (winner, app, loser))
            record = MergeRecord(app, mid, winner, loser, matched, reason, actor, now, w, lose, lose.ids)
            db.execute(
                "INSERT INTO aud_merges (app, mid, winner, loser, ts, undone, record) VALUES (?, ?, ?, ?, ?, 0, ?)",
                (app, mid, winner, loser, now, encode_merge(record)),
            )
            db.executemany(
                "INSERT OR IGNORE INTO aud_merge_matches VALUES (?, ?, ?, ?)",
                [(app, i.kind, i.value, mid) for i in matched],
            )
            return record

        result: MergeRecord = await self._run(lambda db: in_transaction(db, lambda: merge(db)))
        return result

    async def unmerge_audience_profiles(self, app: str, mid: str, now: int) -> MergeRecord | None:
        """Undo in one transaction (see the port)."""

        def unmerge(db: Db) -> MergeRecord | None:
            row = db.execute(
                "SELECT record, undone FROM aud_merges WHERE app = ? AND mid = ?", (app, mid)
            ).fetchone()
            if row is None or row[1]:
                return None
            record = decode_merge(row[0])
            survivor = read_profile(db, app, record.winner)
            if survivor is None or survivor.merged_into:
                return None
            loser = read_profile(db, app, record.loser)
            rev = max(record.loser_before.rev, loser.rev if loser else 0) + 1
            write_profile(db, unmerge_survivor(survivor, record, now))
            write_profile(db, replace(record.loser_before, merged_into="", rev=rev, updated=now))
            db.executemany(
                "UPDATE aud_identifiers SET pid = ? WHERE app = ? AND kind = ? AND value = ? AND pid = ?",
                [(record.loser, app, i.kind, i.value, record.winner) for i in record.moved],
            )
            done = replace(record, undone=now)
            db.execute(
                "UPDATE aud_merges SET undone = ?, record = ? WHERE app = ? AND mid = ?",
                (now, encode_merge(done), app, mid),
            )
            db.execute("DELETE FROM aud_merge_matches WHERE app = ? AND mid = ?", (app, mid))
            return done

        result: MergeRecord | None = await self._run(lambda db: in_transaction(db, lambda: unmerge(db)))
        return result

    async def list_merges(self, app: str, pid: str) -> list[MergeRecord]:
        """The merges ``pid`` took part in, newest first."""
        sql = "SELECT record FROM aud_merges WHERE app = ? AND (winner = ? OR loser = ?) ORDER BY ts DESC, rowid DESC"
        rows = await self._run(lambda db: db.execute(sql, (app, pid, pid)).fetchall())
        return [decode_merge(r[0]) for r in rows]

    async def get_merge(self, app: str, mid: str) -> MergeRecord | None:
        """The merge record ``mid``; None if there is none."""
        sql = "SELECT record FROM aud_merges WHERE app = ? AND mid = ?"
        row = await self._run(lambda db: db.execute(sql, (app, mid)).fetchone())
        return decode_merge(row[0]) if row else None

    async def count_merges_matching(self, app: str, kind: str, value: str) -> int:
        """Standing merges that matched on the identifier (undone ones are deleted from the index)."""
        sql = "SELECT COUNT(*) FROM aud_merge_matches WHERE app = ? AND kind = ? AND value = ?"
        row = await self._run(lambda db: db.execute(sql, (app, kind, value)).fetchone())
        return int(row[0])
