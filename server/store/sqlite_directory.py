"""The directory role of the SQLite adapter: apps, API keys and users
(:class:`~parley.server.store_ports.Directory`; the reach policy and ``last_seen_of`` are in
``sqlite_members``). A small class over the store's one :class:`SQLiteWorker`."""

from __future__ import annotations

import sqlite3

from parley.server.models import App, User
from parley.server.store.sqlite_schema import APP_COLS, USER_COLS, pack, to_app, to_user
from parley.server.store.sqlite_worker import Db, SQLiteWorker

__all__ = ["SQLiteDirectory"]


class SQLiteDirectory:
    """Apps, API key digests and users on the shared connection."""

    def __init__(self, worker: SQLiteWorker) -> None:
        self._w = worker

    # apps -------------------------------------------------------------
    async def create_app(self, app: App) -> None:
        """Create ``app``; raises ``ValueError`` if the id is taken."""

        def q(db: Db) -> None:
            try:
                db.execute(
                    "INSERT INTO apps VALUES (?, ?, ?, ?)", (app.app, app.name, app.secret, app.created)
                )
            except sqlite3.IntegrityError:
                raise ValueError(f"app {app.app!r} exists") from None

        await self._w.run(q)

    async def get_app(self, app: str) -> App | None:
        """See the port."""
        row = await self._w.run(
            lambda db: db.execute(f"SELECT {APP_COLS} FROM apps WHERE app = ?", (app,)).fetchone()
        )
        return to_app(row) if row else None

    async def list_apps(self) -> list[App]:
        """See the port."""
        rows = await self._w.run(
            lambda db: db.execute(f"SELECT {APP_COLS} FROM apps ORDER BY app").fetchall()
        )
        return [to_app(r) for r in rows]

    async def add_api_key(self, app: str, key_hash: str, created: int) -> None:
        """See the port."""
        await self._w.run(
            lambda db: db.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?) ON CONFLICT (key_hash) DO NOTHING",
                (key_hash, app, created),
            )
        )

    async def app_for_key(self, key_hash: str) -> App | None:
        """See the port."""
        sql = f"SELECT {APP_COLS} FROM apps WHERE app = (SELECT app FROM api_keys WHERE key_hash = ?)"
        row = await self._w.run(lambda db: db.execute(sql, (key_hash,)).fetchone())
        return to_app(row) if row else None

    # users ------------------------------------------------------------
    async def upsert_user(self, user: User) -> User:
        """See the port."""
        sql = (
            f"INSERT INTO users ({USER_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (app, user) "
            "DO UPDATE SET name = excluded.name, role = excluded.role, meta = excluded.meta "
            f"RETURNING {USER_COLS}"
        )
        args = (user.app, user.user, user.name, user.role, pack(user.meta), user.created, user.last_seen)
        row = await self._w.run(lambda db: db.execute(sql, args).fetchone())
        return to_user(row)

    async def get_user(self, app: str, user: str) -> User | None:
        """See the port."""
        sql = f"SELECT {USER_COLS} FROM users WHERE app = ? AND user = ?"
        row = await self._w.run(lambda db: db.execute(sql, (app, user)).fetchone())
        return to_user(row) if row else None

    async def anonymise_user(self, app: str, user: str) -> bool:
        """See the port."""
        sql = "UPDATE users SET name = '', meta = ? WHERE app = ? AND user = ?"
        return bool(await self._w.run(lambda db: db.execute(sql, (pack({}), app, user)).rowcount))

    async def set_last_seen(self, app: str, user: str, ts: int) -> None:
        # max(): several gateway nodes may report the same user out of order.
        """See the port."""
        sql = (
            f"INSERT INTO users ({USER_COLS}) VALUES (?, ?, '', 'user', ?, ?, ?) ON CONFLICT (app, user) "
            "DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)"
        )
        await self._w.run(lambda db: db.execute(sql, (app, user, pack({}), ts, ts)))
