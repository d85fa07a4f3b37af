"""Rows of the SQLite audience tables: the schema, one profile read and written whole, and the
one-time migration of the old ``profiles`` table (chat profiles by user) onto them.

Functions here take the connection and run on the store's worker thread, inside the caller's
transaction. Layout (the agreed one, see docs/AUDIENCE.md): one row per scalar attribute in
``aud_attrs`` (number/bool/date as ``num``, string as ``txt``, a string list one row per element
with ``lst = 1``), tags, consent and computed values one row per name.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from parley.proto.plain import repaired
from parley.server.audience_models import (
    AudienceProfile,
    ConsentEntry,
    ConsentState,
    Identifier,
    StoredValue,
    TagChange,
)
from parley.server.ids import new_id
from parley.server.models import TagRecord

__all__ = [
    "AUDIENCE_SCHEMA",
    "append_lines",
    "live_pid",
    "migrate_chat_profiles",
    "read_profile",
    "write_profile",
]

Db = sqlite3.Connection

AUDIENCE_SCHEMA = """
CREATE TABLE IF NOT EXISTS aud_schema (app TEXT PRIMARY KEY, version INTEGER NOT NULL, doc TEXT NOT NULL,
    updated INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS aud_profiles (
    app TEXT NOT NULL, pid TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,
    timezone TEXT NOT NULL DEFAULT '', language TEXT NOT NULL DEFAULT '', merged_into TEXT NOT NULL DEFAULT '',
    rev INTEGER NOT NULL DEFAULT 0, chat BLOB, PRIMARY KEY (app, pid)
);
CREATE TABLE IF NOT EXISTS aud_attrs (
    app TEXT NOT NULL, pid TEXT NOT NULL, key TEXT NOT NULL, num REAL, txt TEXT, lst INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app, pid, key, txt)
);
CREATE INDEX IF NOT EXISTS aud_attrs_num ON aud_attrs (app, key, num);
CREATE INDEX IF NOT EXISTS aud_attrs_txt ON aud_attrs (app, key, txt);
CREATE TABLE IF NOT EXISTS aud_tags (
    app TEXT NOT NULL, pid TEXT NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL, confidence REAL NOT NULL,
    evidence TEXT NOT NULL, ts INTEGER NOT NULL, expires INTEGER NOT NULL, PRIMARY KEY (app, pid, name)
);
CREATE INDEX IF NOT EXISTS aud_tags_name ON aud_tags (app, name, confidence);
CREATE TABLE IF NOT EXISTS aud_tag_history (
    app TEXT NOT NULL, pid TEXT NOT NULL, name TEXT NOT NULL, seq INTEGER NOT NULL, action TEXT NOT NULL,
    source TEXT NOT NULL, confidence REAL NOT NULL, evidence TEXT NOT NULL, ts INTEGER NOT NULL, actor TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS aud_tag_history_pid ON aud_tag_history (app, pid, name, seq);
CREATE TABLE IF NOT EXISTS aud_consent (
    app TEXT NOT NULL, pid TEXT NOT NULL, topic TEXT NOT NULL, state TEXT NOT NULL, ts INTEGER NOT NULL,
    PRIMARY KEY (app, pid, topic)
);
CREATE INDEX IF NOT EXISTS aud_consent_topic ON aud_consent (app, topic, state);
CREATE TABLE IF NOT EXISTS aud_consent_ledger (
    app TEXT NOT NULL, pid TEXT NOT NULL, topic TEXT NOT NULL, state TEXT NOT NULL, ts INTEGER NOT NULL,
    via_kind TEXT NOT NULL, via_ref TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS aud_consent_ledger_pid ON aud_consent_ledger (app, pid, topic, ts);
CREATE TABLE IF NOT EXISTS aud_identifiers (
    app TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, pid TEXT NOT NULL, ts INTEGER NOT NULL,
    PRIMARY KEY (app, kind, value)
);
CREATE INDEX IF NOT EXISTS aud_identifiers_pid ON aud_identifiers (app, pid);
CREATE TABLE IF NOT EXISTS aud_computed (
    app TEXT NOT NULL, pid TEXT NOT NULL, key TEXT NOT NULL, num REAL, txt TEXT, PRIMARY KEY (app, pid, key)
);
CREATE INDEX IF NOT EXISTS aud_computed_num ON aud_computed (app, key, num);
CREATE INDEX IF NOT EXISTS aud_computed_txt ON aud_computed (app, key, txt);
CREATE TABLE IF NOT EXISTS aud_merges (
    app TEXT NOT NULL, mid TEXT NOT NULL, winner TEXT NOT NULL, loser TEXT NOT NULL, ts INTEGER NOT NULL,
    undone INTEGER NOT NULL DEFAULT 0, record BLOB NOT NULL, PRIMARY KEY (app, mid)
);
CREATE INDEX IF NOT EXISTS aud_merges_winner ON aud_merges (app, winner, ts);
CREATE INDEX IF NOT EXISTS aud_merges_loser ON aud_merges (app, loser, ts);
CREATE TABLE IF NOT EXISTS aud_merge_matches (
    app TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, mid TEXT NOT NULL, PRIMARY KEY (app, kind, value, mid)
);
"""

#: How many ``merged_into`` hops a resolution follows (a chain longer than this is a bug).
MAX_HOPS = 32

_chat = msgspec.msgpack.Decoder(dict[str, Any])


def live_pid(db: Db, app: str, pid: str) -> str | None:
    """``pid`` after following ``merged_into``; None if a profile on the way is missing."""
    for _ in range(MAX_HOPS):
        row = db.execute(
            "SELECT merged_into FROM aud_profiles WHERE app = ? AND pid = ?", (app, pid)
        ).fetchone()
        if row is None:
            return None
        if not row[0]:
            return pid
        pid = row[0]
    raise RuntimeError(f"merged_into chain longer than {MAX_HOPS} from {pid!r}")


def read_profile(db: Db, app: str, pid: str) -> AudienceProfile | None:
    """The whole stored profile ``(app, pid)``; None if there is none."""
    row = db.execute(
        "SELECT created, updated, timezone, language, merged_into, rev, chat FROM aud_profiles "
        "WHERE app = ? AND pid = ?",
        (app, pid),
    ).fetchone()
    if row is None:
        return None
    key = (app, pid)
    attrs: dict[str, StoredValue] = {}
    lists: dict[str, list[str]] = {}
    for k, num, txt, lst in db.execute(
        "SELECT key, num, txt, lst FROM aud_attrs WHERE app = ? AND pid = ?", key
    ):
        if lst:
            lists.setdefault(k, []).append(txt)
        else:
            attrs[k] = float(num) if txt is None else str(txt)
    attrs.update({k: tuple(sorted(v)) for k, v in lists.items()})
    tags = {
        r[0]: TagRecord(r[0], r[1], float(r[2]), r[3], int(r[4]), int(r[5]))
        for r in db.execute(
            "SELECT name, source, confidence, evidence, ts, expires FROM aud_tags WHERE app = ? AND pid = ?",
            key,
        )
    }
    consent = {
        r[0]: ConsentState(r[1], int(r[2]))
        for r in db.execute("SELECT topic, state, ts FROM aud_consent WHERE app = ? AND pid = ?", key)
    }
    computed: dict[str, float | str] = {
        r[0]: (float(r[1]) if r[2] is None else str(r[2]))
        for r in db.execute("SELECT key, num, txt FROM aud_computed WHERE app = ? AND pid = ?", key)
    }
    # Sorted here, not by ORDER BY: SQLite answers "ORDER BY kind, value" by walking the primary
    # key (app, kind, value) - every identifier of the app - instead of the (app, pid) index.
    ids = tuple(
        Identifier(k, v)
        for k, v in sorted(
            db.execute("SELECT kind, value FROM aud_identifiers WHERE app = ? AND pid = ?", key)
        )
    )
    chat = _chat.decode(row[6]) if row[6] else {}
    return AudienceProfile(
        app, pid, int(row[0]), int(row[1]), row[2], row[3], row[4], int(row[5]), attrs, tags, consent, computed,
        ids, repaired(chat.get("attributes") or {}), {k: int(v) for k, v in (chat.get("counters") or {}).items()},
    )  # fmt: skip


def write_profile(db: Db, p: AudienceProfile) -> None:
    """Replace every row of ``p`` (not its identifiers, history or ledger) with ``p``'s values."""
    key = (p.app, p.pid)
    chat = msgspec.msgpack.encode({"attributes": p.chat_attributes, "counters": p.chat_counters})
    db.execute(
        "INSERT OR REPLACE INTO aud_profiles (app, pid, created, updated, timezone, language, merged_into, rev, chat) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*key, p.created, p.updated, p.timezone, p.language, p.merged_into, p.rev, chat),
    )
    for table in ("aud_attrs", "aud_tags", "aud_consent", "aud_computed"):
        db.execute(f"DELETE FROM {table} WHERE app = ? AND pid = ?", key)
    rows: list[tuple[Any, ...]] = []
    for k, v in p.attrs.items():
        if isinstance(v, tuple):
            rows.extend((*key, k, None, item, 1) for item in sorted(set(v)))
        elif isinstance(v, str):
            rows.append((*key, k, None, v, 0))
        else:
            rows.append((*key, k, float(v), None, 0))
    db.executemany("INSERT INTO aud_attrs (app, pid, key, num, txt, lst) VALUES (?, ?, ?, ?, ?, ?)", rows)
    db.executemany(
        "INSERT INTO aud_tags VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(*key, t.name, t.source, t.confidence, t.evidence, t.ts, t.expires) for t in p.tags.values()],
    )
    db.executemany(
        "INSERT INTO aud_consent VALUES (?, ?, ?, ?, ?)",
        [(*key, n, c.state, c.ts) for n, c in p.consent.items()],
    )
    db.executemany(
        "INSERT INTO aud_computed VALUES (?, ?, ?, ?, ?)",
        [
            (*key, k, None, v) if isinstance(v, str) else (*key, k, float(v), None)
            for k, v in p.computed.items()
        ],
    )


def append_lines(db: Db, app: str, pid: str, history: list[TagChange], ledger: list[ConsentEntry]) -> None:
    """Append tag-history and consent-ledger lines of ``pid``."""
    db.executemany(
        "INSERT INTO aud_tag_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (app, pid, h.name, h.seq, h.action, h.source, h.confidence, h.evidence, h.ts, h.actor)
            for h in history
        ],
    )
    db.executemany(
        "INSERT INTO aud_consent_ledger VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(app, pid, e.topic, e.state, e.ts, e.via_kind, e.via_ref) for e in ledger],
    )


_tags = msgspec.msgpack.Decoder(dict[str, TagRecord])


def migrate_chat_profiles(db: Db) -> None:
    """Move rows of the old ``profiles`` table (chat profiles by user) onto the audience tables,
    each to the profile holding identifier ``user`` = that user (created if needed), then drop
    the table. Idempotent: once the table is gone there is nothing to do."""
    exists = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'profiles'").fetchone()
    if exists is None:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for app, user, tags, attributes, counters, updated in db.execute(
            "SELECT app, user, tags, attributes, counters, updated FROM profiles"
        ).fetchall():
            row = db.execute(
                "SELECT pid FROM aud_identifiers WHERE app = ? AND kind = 'user' AND value = ?", (app, user)
            ).fetchone()
            pid = row[0] if row else new_id("p")
            if row is None:
                db.execute(
                    "INSERT INTO aud_identifiers VALUES (?, 'user', ?, ?, ?)", (app, user, pid, updated)
                )
            current = read_profile(db, app, pid) or AudienceProfile(app, pid, int(updated))
            write_profile(
                db,
                AudienceProfile(
                    app, pid, current.created, max(current.updated, int(updated)), current.timezone,
                    current.language, current.merged_into, current.rev + 1, current.attrs,
                    {**_tags.decode(tags), **current.tags}, current.consent, current.computed, current.ids,
                    {**msgspec.msgpack.decode(attributes), **current.chat_attributes},
                    {**msgspec.msgpack.decode(counters), **current.chat_counters},
                ),
            )  # fmt: skip
        db.execute("DROP TABLE profiles")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
