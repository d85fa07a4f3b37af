"""Console tables of the SQLite store: console users, their sessions and per-app settings.

A role class of the SQLite adapter over the store's one :class:`SQLiteWorker`: it runs on the
same connection and worker thread (``self._run``). Implements
:class:`~parley.server.console_port.ConsoleStore`. Of two deletes of one session exactly one
changes the row: every statement runs on the store's one worker thread, and across processes
SQLite's write lock serialises them.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from parley.server.console_port import ConsoleSession, ConsoleUser
from parley.server.store.sqlite_worker import SQLiteWorker

__all__ = ["CONSOLE_SCHEMA", "ConsoleTables"]

Db = sqlite3.Connection

CONSOLE_SCHEMA = """
CREATE TABLE IF NOT EXISTS console_users (
    app TEXT NOT NULL, username TEXT NOT NULL, password_hash TEXT NOT NULL, roles TEXT NOT NULL,
    name TEXT NOT NULL, created INTEGER NOT NULL, disabled INTEGER NOT NULL,
    PRIMARY KEY (app, username)
);
CREATE TABLE IF NOT EXISTS console_sessions (
    token_hash TEXT NOT NULL PRIMARY KEY, app TEXT NOT NULL, username TEXT NOT NULL, csrf TEXT NOT NULL,
    created INTEGER NOT NULL, expires INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS console_sessions_user ON console_sessions (app, username);
CREATE TABLE IF NOT EXISTS console_settings (
    app TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
    PRIMARY KEY (app, key)
);
"""

_USER_COLS = "app, username, password_hash, roles, name, created, disabled"
_SESSION_COLS = "token_hash, app, username, csrf, created, expires"


def _user(r: tuple[Any, ...]) -> ConsoleUser:
    roles = tuple(x for x in str(r[3]).split(",") if x)
    return ConsoleUser(r[0], r[1], r[2], roles, r[4], int(r[5]), bool(r[6]))


def _session(r: tuple[Any, ...]) -> ConsoleSession:
    return ConsoleSession(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]))


class ConsoleTables:
    """The SQLite adapter's :class:`~parley.server.console_port.ConsoleStore` role (one job on the
    store's worker thread per call; primary keys keep one user per name and one session per digest).
    """

    def __init__(self, worker: SQLiteWorker) -> None:
        self._run = worker.run

    async def put_console_user(self, user: ConsoleUser) -> None:
        """Create or replace the user (``INSERT OR REPLACE`` on ``(app, username)``)."""
        sql = f"INSERT OR REPLACE INTO console_users ({_USER_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        u = user
        args = (u.app, u.username, u.password_hash, ",".join(u.roles), u.name, u.created, int(u.disabled))
        await self._run(lambda db: db.execute(sql, args))

    async def get_console_user(self, app: str, username: str) -> ConsoleUser | None:
        """The user; None if there is none."""
        sql = f"SELECT {_USER_COLS} FROM console_users WHERE app = ? AND username = ?"
        row = await self._run(lambda db: db.execute(sql, (app, username)).fetchone())
        return _user(row) if row else None

    async def list_console_users(self, app: str) -> list[ConsoleUser]:
        """The app's users, by username."""
        sql = f"SELECT {_USER_COLS} FROM console_users WHERE app = ? ORDER BY username"
        rows = await self._run(lambda db: db.execute(sql, (app,)).fetchall())
        return [_user(r) for r in rows]

    async def add_console_session(self, session: ConsoleSession) -> None:
        """Insert the session (a repeated digest is an ``IntegrityError``: digests are random)."""
        s = session
        sql = f"INSERT INTO console_sessions ({_SESSION_COLS}) VALUES (?, ?, ?, ?, ?, ?)"
        args = (s.token_hash, s.app, s.username, s.csrf, s.created, s.expires)
        await self._run(lambda db: db.execute(sql, args))

    async def get_console_session(self, token_hash: str, now: int) -> ConsoleSession | None:
        """The session if ``expires > now``; None otherwise."""
        sql = f"SELECT {_SESSION_COLS} FROM console_sessions WHERE token_hash = ? AND expires > ?"
        row = await self._run(lambda db: db.execute(sql, (token_hash, now)).fetchone())
        return _session(row) if row else None

    async def delete_console_session(self, token_hash: str) -> bool:
        """Delete it; True only for the call whose ``DELETE`` removed the row."""
        sql = "DELETE FROM console_sessions WHERE token_hash = ?"
        changed: int = await self._run(lambda db: db.execute(sql, (token_hash,)).rowcount)
        return changed > 0

    async def delete_console_sessions(self, app: str, username: str) -> int:
        """Delete every session of the user, expired or not; returns how many."""
        sql = "DELETE FROM console_sessions WHERE app = ? AND username = ?"
        changed: int = await self._run(lambda db: db.execute(sql, (app, username)).rowcount)
        return changed

    async def purge_console_sessions(self, app: str, username: str, now: int) -> int:
        """Delete the user's sessions with ``expires <= now`` (the ``(app, username)`` index); how many."""
        sql = "DELETE FROM console_sessions WHERE app = ? AND username = ? AND expires <= ?"
        changed: int = await self._run(lambda db: db.execute(sql, (app, username, now)).rowcount)
        return changed

    async def get_console_setting(self, app: str, key: str) -> Any:
        """The app's value of ``key`` (MessagePack in the row); None if never set."""
        sql = "SELECT value FROM console_settings WHERE app = ? AND key = ?"
        row = await self._run(lambda db: db.execute(sql, (app, key)).fetchone())
        return msgspec.msgpack.decode(row[0]) if row else None

    async def put_console_setting(self, app: str, key: str, value: Any) -> None:
        """Create or replace the app's value of ``key``."""
        sql = "INSERT OR REPLACE INTO console_settings (app, key, value) VALUES (?, ?, ?)"
        args = (app, key, msgspec.msgpack.encode(value))
        await self._run(lambda db: db.execute(sql, args))
