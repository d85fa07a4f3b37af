"""Audience profiles on the SQLite store: the app's schema record, profiles, tag history, the
consent ledger, and the chat ``Profiles`` port served from the same rows.

A role class of the SQLite adapter over the store's one :class:`SQLiteWorker`. Implements
:class:`~parley.server.audience_port.AudienceProfiles` and
:class:`~parley.server.store_ports.Profiles`. Every change is one ``BEGIN IMMEDIATE``
transaction: read the profile, apply the pure rule (``audience_rules``), write it back with its
history and ledger lines; SQLite's write lock serialises it with merges on any store instance.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

from parley.server.audience_models import (
    AudienceProfile,
    ConsentEntry,
    ProfileChange,
    ProfileMerged,
    ProfileNotFound,
    TagChange,
)
from parley.server.audience_rules import apply_change, chat_view
from parley.server.ids import new_id, now_ms
from parley.server.models import Profile, TagRecord
from parley.server.store.sqlite_audience_rows import append_lines, live_pid, read_profile, write_profile
from parley.server.store.sqlite_events import claim_events
from parley.server.store.sqlite_worker import SQLiteWorker

__all__ = ["AudienceTables", "change_profile", "in_transaction", "user_pid"]

Db = sqlite3.Connection
T = TypeVar("T")


def in_transaction(db: Db, fn: Callable[[], T]) -> T:
    """Run ``fn`` inside one ``BEGIN IMMEDIATE`` transaction: committed if it returns, rolled
    back (nothing written) if it raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        result = fn()
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return result


def change_profile(db: Db, app: str, pid: str, change: ProfileChange) -> AudienceProfile:
    """Apply ``change`` to ``pid`` inside the caller's transaction (``ProfileNotFound`` /
    ``ProfileMerged`` when it cannot)."""
    current = read_profile(db, app, pid)
    if current is None:
        raise ProfileNotFound(app, pid)
    if current.merged_into:
        raise ProfileMerged(pid, current.merged_into)
    if change.events:  # the events it applies: refused if one was applied, else marked with it
        claim_events(db, app, pid, change.events)
    updated, history, ledger = apply_change(current, change)
    write_profile(db, updated)
    append_lines(db, app, pid, history, ledger)
    return updated


def user_pid(db: Db, app: str, user: str, now: int, *, create: bool) -> str | None:
    """The live pid holding identifier ``user`` = ``user`` (created with an empty profile if
    ``create``); inside the caller's transaction."""
    row = db.execute(
        "SELECT pid FROM aud_identifiers WHERE app = ? AND kind = 'user' AND value = ?", (app, user)
    ).fetchone()
    if row is not None:
        return live_pid(db, app, row[0])
    if not create:
        return None
    pid = new_id("p")
    db.execute("INSERT INTO aud_identifiers VALUES (?, 'user', ?, ?, ?)", (app, user, pid, now))
    write_profile(db, AudienceProfile(app, pid, now, now))
    return pid


class AudienceTables:
    """The SQLite adapter's :class:`~parley.server.audience_port.AudienceProfiles` role, and the
    chat :class:`~parley.server.store_ports.Profiles` role on the same rows."""

    def __init__(self, worker: SQLiteWorker) -> None:
        self._run = worker.run

    async def put_audience_schema(self, app: str, doc: Mapping[str, Any], now: int) -> int:
        """Replace the app's schema document, version + 1, in one statement."""
        text = json.dumps(doc, sort_keys=True)
        sql = (
            "INSERT INTO aud_schema (app, version, doc, updated) VALUES (?, 1, ?, ?) ON CONFLICT (app) "
            "DO UPDATE SET version = version + 1, doc = excluded.doc, updated = excluded.updated RETURNING version"
        )
        version: int = await self._run(lambda db: int(db.execute(sql, (app, text, now)).fetchone()[0]))
        return version

    async def get_audience_schema(self, app: str) -> tuple[int, dict[str, Any]] | None:
        """The app's schema version and document; None until one was put."""
        sql = "SELECT version, doc FROM aud_schema WHERE app = ?"
        row = await self._run(lambda db: db.execute(sql, (app,)).fetchone())
        return (int(row[0]), json.loads(row[1])) if row else None

    async def get_audience_profile(self, app: str, pid: str) -> AudienceProfile | None:
        """The profile as stored (one worker job: a consistent read); None if there is none."""
        profile: AudienceProfile | None = await self._run(lambda db: read_profile(db, app, pid))
        return profile

    async def update_audience_profile(self, app: str, pid: str, change: ProfileChange) -> AudienceProfile:
        """Apply ``change`` in one transaction (see :func:`change_profile`)."""
        result: AudienceProfile = await self._run(
            lambda db: in_transaction(db, lambda: change_profile(db, app, pid, change))
        )
        return result

    async def tag_history(self, app: str, pid: str, name: str = "") -> list[TagChange]:
        """The profile's tag history (of ``name`` if given), by seq then insertion."""
        sql = (
            "SELECT name, seq, action, source, confidence, evidence, ts, actor FROM aud_tag_history "
            "WHERE app = ? AND pid = ?" + (" AND name = ?" if name else "") + " ORDER BY seq, rowid"
        )
        args = (app, pid, name) if name else (app, pid)
        rows = await self._run(lambda db: db.execute(sql, args).fetchall())
        return [TagChange(r[0], int(r[1]), r[2], r[3], float(r[4]), r[5], int(r[6]), r[7]) for r in rows]

    async def consent_ledger(self, app: str, pid: str, topic: str = "") -> list[ConsentEntry]:
        """The profile's consent ledger (of ``topic`` if given), in the order recorded."""
        sql = (
            "SELECT topic, state, ts, via_kind, via_ref FROM aud_consent_ledger WHERE app = ? AND pid = ?"
            + (" AND topic = ?" if topic else "") + " ORDER BY rowid"
        )  # fmt: skip
        args = (app, pid, topic) if topic else (app, pid)
        rows = await self._run(lambda db: db.execute(sql, args).fetchall())
        return [ConsentEntry(r[0], r[1], int(r[2]), r[3], r[4]) for r in rows]

    async def get_profile(self, app: str, user: str) -> Profile | None:
        """The chat view of the profile holding identifier ``user``; None until one exists."""

        def read(db: Db) -> Profile | None:
            pid = user_pid(db, app, user, 0, create=False)
            profile = read_profile(db, app, pid) if pid else None
            return chat_view(profile, user) if profile else None

        result: Profile | None = await self._run(read)
        return result

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
        """Chat changes to the profile holding identifier ``user`` (created if missing), in one
        transaction: tags (history actor ``chat``), chat attributes (overwrite by key), chat
        counters (added), ``updated`` only moves forward."""
        change = ProfileChange(
            now=updated,
            actor="chat",
            set_tags=tuple(set_tags),
            remove_tags=tuple(n for n in remove_tags if n not in {t.name for t in set_tags}),
            chat_attributes=dict(attributes or {}),
            chat_counters=dict(counters or {}),
        )

        def merge(db: Db) -> Profile:
            pid = user_pid(db, app, user, updated or now_ms(), create=True)
            if pid is None:  # a broken merge chain: never expected inside one transaction
                raise ProfileNotFound(app, user)
            return chat_view(change_profile(db, app, pid, change), user)

        result: Profile = await self._run(lambda db: in_transaction(db, lambda: merge(db)))
        return result
