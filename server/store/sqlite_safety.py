"""Safety tables of the SQLite store: blocks, user status, mutes, audit, retired secrets and API
keys, word lists, the review queue.

A role class of the SQLite adapter over the store's one :class:`SQLiteWorker`: it runs on the
same connection and worker thread (``self._run``). Implements
:class:`~parley.server.safety_port.SafetyStore`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from typing import Any

import msgspec

from parley.server.safety_models import (
    ApiKeyRecord,
    AuditRecord,
    BlockRecord,
    Mute,
    RetiredSecret,
    ReviewItem,
    UserStatus,
    WordList,
)
from parley.server.store.sqlite_worker import SQLiteWorker

__all__ = ["SAFETY_SCHEMA", "SafetyTables"]

Db = sqlite3.Connection

SAFETY_SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (
    app TEXT NOT NULL, blocker TEXT NOT NULL, blocked TEXT NOT NULL, created INTEGER NOT NULL,
    PRIMARY KEY (app, blocker, blocked)
);
CREATE INDEX IF NOT EXISTS blocks_blocked ON blocks (app, blocked, blocker);
CREATE TABLE IF NOT EXISTS user_status (
    app TEXT NOT NULL, user TEXT NOT NULL, disabled INTEGER NOT NULL, reason TEXT NOT NULL,
    tokens_before INTEGER NOT NULL, updated INTEGER NOT NULL,
    PRIMARY KEY (app, user)
);
CREATE TABLE IF NOT EXISTS mutes (
    app TEXT NOT NULL, conv TEXT NOT NULL, user TEXT NOT NULL, until INTEGER NOT NULL,
    reason TEXT NOT NULL, created INTEGER NOT NULL,
    PRIMARY KEY (app, conv, user)
);
CREATE TABLE IF NOT EXISTS audit (
    app TEXT NOT NULL, id TEXT NOT NULL, ts INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, detail BLOB NOT NULL,
    PRIMARY KEY (app, id)
);
CREATE INDEX IF NOT EXISTS audit_actor ON audit (app, actor, id);
CREATE INDEX IF NOT EXISTS audit_target ON audit (app, target, id);
CREATE TABLE IF NOT EXISTS word_lists (
    app TEXT NOT NULL, name TEXT NOT NULL, action TEXT NOT NULL, words BLOB NOT NULL, updated INTEGER NOT NULL,
    PRIMARY KEY (app, name)
);
CREATE TABLE IF NOT EXISTS reviews (
    app TEXT NOT NULL, id TEXT NOT NULL, key TEXT NOT NULL, conv TEXT NOT NULL, seq INTEGER NOT NULL,
    author TEXT NOT NULL, source TEXT NOT NULL, reporter TEXT NOT NULL, reason TEXT NOT NULL,
    excerpt TEXT NOT NULL, ts INTEGER NOT NULL, state TEXT NOT NULL, outcome TEXT NOT NULL,
    resolved_by TEXT NOT NULL, resolved_at INTEGER NOT NULL,
    PRIMARY KEY (app, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS reviews_key ON reviews (app, key);
CREATE INDEX IF NOT EXISTS reviews_state ON reviews (app, state, id);
CREATE TABLE IF NOT EXISTS retired_secrets (
    app TEXT NOT NULL, secret TEXT NOT NULL, until INTEGER NOT NULL,
    PRIMARY KEY (app, secret)
);
"""

_STATUS_COLS = "app, user, disabled, reason, tokens_before, updated"
_MUTE_COLS = "app, conv, user, until, reason, created"
_AUDIT_COLS = "app, id, ts, actor, action, target, detail"
_REVIEW_COLS = "app, id, key, conv, seq, author, source, reporter, reason, excerpt, ts, state, outcome, resolved_by, resolved_at"


def _status(r: tuple[Any, ...]) -> UserStatus:
    return UserStatus(r[0], r[1], bool(r[2]), r[3], r[4], r[5])


def _audit(r: tuple[Any, ...]) -> AuditRecord:
    return AuditRecord(r[0], r[1], r[2], r[3], r[4], r[5], msgspec.msgpack.decode(r[6]))


#: SQLite's default limit of host parameters is 999 on old builds; chunks stay below it.
_CHUNK = 400


class SafetyTables:
    """The SQLite adapter's :class:`~parley.server.safety_port.SafetyStore` role.

    Every call is one job on the store's worker thread (``SQLiteWorker.run``), so it never
    blocks the event loop and shares the store's one connection and write lock. A single
    statement is its own transaction (autocommit); ``rotate_secret`` is one ``BEGIN IMMEDIATE``
    transaction. Transient SQLite errors surface as ``StoreUnavailable``.
    """

    def __init__(self, worker: SQLiteWorker) -> None:
        self._run = worker.run

    async def add_block(self, app: str, blocker: str, blocked: str, created: int) -> bool:
        """Insert the pair (``INSERT OR IGNORE`` on its primary key); False if it was already blocked."""
        sql = "INSERT OR IGNORE INTO blocks (app, blocker, blocked, created) VALUES (?, ?, ?, ?)"
        changed: int = await self._run(lambda db: db.execute(sql, (app, blocker, blocked, created)).rowcount)
        return changed > 0

    async def remove_block(self, app: str, blocker: str, blocked: str) -> bool:
        """Delete the pair ``blocker`` → ``blocked``; False if there was no such block."""
        sql = "DELETE FROM blocks WHERE app = ? AND blocker = ? AND blocked = ?"
        changed: int = await self._run(lambda db: db.execute(sql, (app, blocker, blocked)).rowcount)
        return changed > 0

    async def list_blocks(self, app: str, blocker: str) -> list[BlockRecord]:
        """Every block ``blocker`` made in ``app``, ordered by the blocked user's id."""
        sql = (
            "SELECT app, blocker, blocked, created FROM blocks WHERE app = ? AND blocker = ? ORDER BY blocked"
        )
        rows = await self._run(lambda db: db.execute(sql, (app, blocker)).fetchall())
        return [BlockRecord(*r) for r in rows]

    async def blocks_between(self, app: str, user: str, others: Collection[str]) -> list[BlockRecord]:
        """Blocks in either direction between ``user`` and ``others`` (duplicates ignored).

        The candidates are queried in chunks of at most ``_CHUNK`` ids (SQLite's host-parameter
        limit), all in one worker job; an empty ``others`` returns ``[]``. No particular order.
        """
        wanted = sorted(set(others))

        def read(db: Db) -> list[BlockRecord]:
            found = []
            for i in range(0, len(wanted), _CHUNK):
                chunk = wanted[i : i + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                sql = (
                    "SELECT app, blocker, blocked, created FROM blocks WHERE app = ? AND "
                    f"((blocker = ? AND blocked IN ({marks})) OR (blocked = ? AND blocker IN ({marks})))"
                )
                rows = db.execute(sql, (app, user, *chunk, user, *chunk)).fetchall()
                found += [BlockRecord(*r) for r in rows]
            return found

        records: list[BlockRecord] = await self._run(read)
        return records

    # moderation -------------------------------------------------------
    async def get_user_status(self, app: str, user: str) -> UserStatus | None:
        """The stored moderation status of ``user``; None if moderators never saved one."""
        sql = f"SELECT {_STATUS_COLS} FROM user_status WHERE app = ? AND user = ?"
        row = await self._run(lambda db: db.execute(sql, (app, user)).fetchone())
        return _status(row) if row else None

    async def save_user_status(self, status: UserStatus) -> None:
        """Create or replace (``INSERT OR REPLACE``) the one status row of ``(app, user)``."""
        s = status
        sql = f"INSERT OR REPLACE INTO user_status ({_STATUS_COLS}) VALUES (?, ?, ?, ?, ?, ?)"
        args = (s.app, s.user, int(s.disabled), s.reason, s.tokens_before, s.updated)
        await self._run(lambda db: db.execute(sql, args))

    async def save_mute(self, mute: Mute) -> None:
        """Create or replace the one mute of ``(app, conv, user)``."""
        m = mute
        sql = f"INSERT OR REPLACE INTO mutes ({_MUTE_COLS}) VALUES (?, ?, ?, ?, ?, ?)"
        await self._run(lambda db: db.execute(sql, (m.app, m.conv, m.user, m.until, m.reason, m.created)))

    async def get_mute(self, app: str, conv: str, user: str) -> Mute | None:
        """The mute of ``(conv, user)``, even if ``until`` has passed (the caller decides); None if none."""
        sql = f"SELECT {_MUTE_COLS} FROM mutes WHERE app = ? AND conv = ? AND user = ?"
        row = await self._run(lambda db: db.execute(sql, (app, conv, user)).fetchone())
        return Mute(*row) if row else None

    async def list_mutes(self, app: str, conv: str) -> list[Mute]:
        """Every mute of ``conv``, expired ones included, ordered by user id."""
        sql = f"SELECT {_MUTE_COLS} FROM mutes WHERE app = ? AND conv = ? ORDER BY user"
        rows = await self._run(lambda db: db.execute(sql, (app, conv)).fetchall())
        return [Mute(*r) for r in rows]

    async def remove_mute(self, app: str, conv: str, user: str) -> bool:
        """Delete the mute of ``(conv, user)``; False if there was none."""
        sql = "DELETE FROM mutes WHERE app = ? AND conv = ? AND user = ?"
        changed: int = await self._run(lambda db: db.execute(sql, (app, conv, user)).rowcount)
        return changed > 0

    # audit ------------------------------------------------------------
    async def add_audit(self, record: AuditRecord) -> None:
        """Append ``record`` (detail stored as msgpack).

        A plain ``INSERT``: a second record with the same ``(app, id)`` raises ``sqlite3.IntegrityError``
        rather than overwrite history.
        """
        r = record
        args = (r.app, r.id, r.ts, r.actor, r.action, r.target, msgspec.msgpack.encode(r.detail))
        sql = f"INSERT INTO audit ({_AUDIT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        await self._run(lambda db: db.execute(sql, args))

    async def list_audit(
        self,
        app: str,
        *,
        after: str,
        limit: int,
        actor: str = "",
        action: str = "",
        target: str = "",
        before: str = "",
    ) -> list[AuditRecord]:
        """Up to ``limit`` audit records of ``app`` with ``after < id`` (``< before`` if given),
        of ``actor`` / ``target`` (exact) and an ``action`` starting with ``action``, by id."""
        sql = f"SELECT {_AUDIT_COLS} FROM audit WHERE app = ? AND id > ?"
        args: list[Any] = [app, after]
        for clause, value in (("actor = ?", actor), ("target = ?", target), ("id < ?", before)):
            if value:
                sql += f" AND {clause}"
                args.append(value)
        if action:
            sql += " AND substr(action, 1, ?) = ?"
            args += [len(action), action]
        sql += " ORDER BY id LIMIT ?"
        args.append(limit)
        rows = await self._run(lambda db: db.execute(sql, args).fetchall())
        return [_audit(r) for r in rows]

    # secrets and keys -------------------------------------------------
    async def rotate_secret(self, app: str, secret: str, retired: RetiredSecret) -> bool:
        """Swap the app's token secret and retire the old one, in one ``BEGIN IMMEDIATE`` transaction.

        Sets ``apps.secret``, cuts every retired secret's ``until`` that lies past ``retired.until``
        down to it, and stores ``retired``. All or nothing: on any error the transaction is rolled
        back and the error raised. False (nothing written) if ``app`` does not exist.
        """

        def rotate(db: Db) -> bool:
            db.execute("BEGIN IMMEDIATE")
            try:
                changed = db.execute("UPDATE apps SET secret = ? WHERE app = ?", (secret, app)).rowcount
                if changed:
                    db.execute(
                        "UPDATE retired_secrets SET until = ? WHERE app = ? AND until > ?",
                        (retired.until, app, retired.until),
                    )
                    db.execute(
                        "INSERT OR REPLACE INTO retired_secrets (app, secret, until) VALUES (?, ?, ?)",
                        (retired.app, retired.secret, retired.until),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return bool(changed)

        done: bool = await self._run(rotate)
        return done

    async def retired_secrets(self, app: str) -> list[RetiredSecret]:
        """Every retired secret of ``app``, soonest ``until`` first, expired or not."""
        sql = "SELECT app, secret, until FROM retired_secrets WHERE app = ? ORDER BY until"
        rows = await self._run(lambda db: db.execute(sql, (app,)).fetchall())
        return [RetiredSecret(*r) for r in rows]

    async def list_api_keys(self, app: str) -> list[ApiKeyRecord]:
        """The app's API key digests, oldest first (ties by digest)."""
        sql = "SELECT app, key_hash, created FROM api_keys WHERE app = ? ORDER BY created, key_hash"
        rows = await self._run(lambda db: db.execute(sql, (app,)).fetchall())
        return [ApiKeyRecord(*r) for r in rows]

    async def remove_api_key(self, app: str, key_hash: str) -> bool:
        """Delete the key with ``key_hash`` only if it belongs to ``app``; False otherwise.

        Takes effect for every node at once: ``app_for_key`` reads the table on every call.
        """
        sql = "DELETE FROM api_keys WHERE app = ? AND key_hash = ?"
        changed: int = await self._run(lambda db: db.execute(sql, (app, key_hash)).rowcount)
        return changed > 0

    # word lists and reviews -------------------------------------------
    async def put_word_list(self, words: WordList) -> None:
        """Create or replace the whole list ``(app, words.name)``; the words are stored as msgpack."""
        w = words
        args = (w.app, w.name, w.action, msgspec.msgpack.encode(list(w.words)), w.updated)
        sql = "INSERT OR REPLACE INTO word_lists (app, name, action, words, updated) VALUES (?, ?, ?, ?, ?)"
        await self._run(lambda db: db.execute(sql, args))

    async def delete_word_list(self, app: str, name: str) -> bool:
        """Delete the list ``(app, name)``; False if there was none."""
        sql = "DELETE FROM word_lists WHERE app = ? AND name = ?"
        changed: int = await self._run(lambda db: db.execute(sql, (app, name)).rowcount)
        return changed > 0

    async def list_word_lists(self, app: str) -> list[WordList]:
        """Every word list of ``app``, ordered by name."""
        sql = "SELECT app, name, action, words, updated FROM word_lists WHERE app = ? ORDER BY name"
        rows = await self._run(lambda db: db.execute(sql, (app,)).fetchall())
        return [WordList(r[0], r[1], r[2], list(msgspec.msgpack.decode(r[3])), r[4]) for r in rows]

    async def add_review(self, item: ReviewItem) -> bool:
        """Queue ``item`` (``INSERT OR IGNORE``); False, storing nothing, if an item with the same
        ``(app, id)`` or ``(app, key)`` is already there (the key's unique index makes a repeated
        report of one message a no-op).
        """
        i = item
        args = (i.app, i.id, i.key, i.conv, i.seq, i.author, i.source, i.reporter, i.reason, i.excerpt, i.ts,
                i.state, i.outcome, i.resolved_by, i.resolved_at)  # fmt: skip
        marks = ", ".join("?" * len(args))
        sql = f"INSERT OR IGNORE INTO reviews ({_REVIEW_COLS}) VALUES ({marks})"
        changed: int = await self._run(lambda db: db.execute(sql, args).rowcount)
        return changed > 0

    async def get_review(self, app: str, review_id: str) -> ReviewItem | None:
        """The review item ``review_id`` of ``app`` in any state; None if the app has no such item."""
        sql = f"SELECT {_REVIEW_COLS} FROM reviews WHERE app = ? AND id = ?"
        row = await self._run(lambda db: db.execute(sql, (app, review_id)).fetchone())
        return ReviewItem(*row) if row else None

    async def list_reviews(self, app: str, *, state: str, after: str, limit: int) -> list[ReviewItem]:
        """Up to ``limit`` items of ``app`` in ``state`` with ``id > after``, ascending by id."""
        sql = f"SELECT {_REVIEW_COLS} FROM reviews WHERE app = ? AND state = ? AND id > ? ORDER BY id LIMIT ?"
        rows = await self._run(lambda db: db.execute(sql, (app, state, after, limit)).fetchall())
        return [ReviewItem(*r) for r in rows]

    async def resolve_review(self, app: str, review_id: str, *, outcome: str, by: str, ts: int) -> bool:
        """Compare-and-set from ``open`` to ``resolved`` with ``outcome``, ``by`` and ``ts``.

        One conditional ``UPDATE``, so of two concurrent resolutions exactly one returns True;
        False if the item is absent, of another app, or no longer open.
        """
        sql = (
            "UPDATE reviews SET state = 'resolved', outcome = ?, resolved_by = ?, resolved_at = ? "
            "WHERE app = ? AND id = ? AND state = 'open'"
        )
        changed: int = await self._run(lambda db: db.execute(sql, (outcome, by, ts, app, review_id)).rowcount)
        return changed > 0
