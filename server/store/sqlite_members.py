"""Bounded membership queries of the SQLite store: pages, counts, who shares a conversation,
and the app's reach policy that uses them.

A role class of the SQLite adapter over the store's one :class:`SQLiteWorker` (same connection and worker
thread, ``self._run``). Each query answers a limit or a policy in one round trip, so a
request about a thousand users is one statement, not a thousand.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence

from parley.server.models import AppPolicy, Member
from parley.server.store.sqlite_schema import MEMBER_COLS, to_member
from parley.server.store.sqlite_worker import SQLiteWorker

__all__ = ["MEMBER_QUERY_SCHEMA", "MemberQueries"]

Db = sqlite3.Connection

#: Host parameters per statement: far below SQLite's limit (32 766 since 3.32).
_CHUNK = 500

MEMBER_QUERY_SCHEMA = """
CREATE INDEX IF NOT EXISTS conversations_creator ON conversations (app, created_by, created);
CREATE TABLE IF NOT EXISTS app_policies (
    app TEXT PRIMARY KEY, presence TEXT NOT NULL, add_policy TEXT NOT NULL
);
"""


def _chunks(items: Sequence[str]) -> list[Sequence[str]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


class MemberQueries:
    """The SQLite adapter's bounded membership queries and reach policy (part of the
    :class:`~parley.server.store_ports.Directory` and :class:`~parley.server.store_ports.Conversations`
    roles). Each is one job on the store's worker thread; user lists are split into statements
    of at most ``_CHUNK`` ids, so a request about many users never exceeds SQLite's limits.
    """

    def __init__(self, worker: SQLiteWorker) -> None:
        self._run = worker.run

    async def last_seen_of(self, app: str, users: Collection[str]) -> dict[str, int]:
        """See the port."""
        wanted = list(dict.fromkeys(users))

        def q(db: Db) -> dict[str, int]:
            found: dict[str, int] = {}
            for part in _chunks(wanted):
                marks = ", ".join("?" * len(part))
                sql = f"SELECT user, last_seen FROM users WHERE app = ? AND user IN ({marks})"
                found.update(db.execute(sql, (app, *part)).fetchall())
            return found

        return await self._run(q) if wanted else {}

    async def shared_with(self, app: str, user: str, candidates: Collection[str]) -> set[str]:
        """See the port."""
        wanted = [u for u in dict.fromkeys(candidates) if u != user]

        def q(db: Db) -> set[str]:
            found: set[str] = set()
            for part in _chunks(wanted):
                marks = ", ".join("?" * len(part))
                sql = (
                    "SELECT DISTINCT o.user FROM members o JOIN members m ON m.app = o.app AND m.conv = o.conv "
                    f"WHERE m.app = ? AND m.user = ? AND o.user IN ({marks})"
                )
                found.update(r[0] for r in db.execute(sql, (app, user, *part)))
            return found

        return await self._run(q) if wanted else set()

    async def count_created_since(self, app: str, user: str, since: int) -> int:
        """See the port."""
        sql = (
            "SELECT count(*) FROM conversations WHERE app = ? AND created_by = ? AND created >= ? "
            "AND kind != 'direct'"
        )
        row = await self._run(lambda db: db.execute(sql, (app, user, since)).fetchone())
        return int(row[0])

    async def count_joined_since(self, app: str, users: Collection[str], since: int) -> dict[str, int]:
        """See the port."""
        wanted = list(dict.fromkeys(users))

        def q(db: Db) -> dict[str, int]:
            found: dict[str, int] = {}
            for part in _chunks(wanted):
                marks = ", ".join("?" * len(part))
                sql = (
                    "SELECT user, count(*) FROM members "
                    f"WHERE app = ? AND user IN ({marks}) AND joined >= ? GROUP BY user"
                )
                found.update(db.execute(sql, (app, *part, since)).fetchall())
            return found

        return await self._run(q) if wanted else {}

    async def count_members(self, app: str, conv: str) -> int:
        """See the port."""
        sql = "SELECT count(*) FROM members WHERE app = ? AND conv = ?"
        row = await self._run(lambda db: db.execute(sql, (app, conv)).fetchone())
        return int(row[0])

    async def member_page(self, app: str, conv: str, after: str, limit: int) -> list[Member]:
        """See the port."""
        sql = (
            f"SELECT {MEMBER_COLS} FROM members WHERE app = ? AND conv = ? AND user > ? ORDER BY user LIMIT ?"
        )
        rows = await self._run(lambda db: db.execute(sql, (app, conv, after, limit)).fetchall())
        return [to_member(r) for r in rows]

    async def get_app_policy(self, app: str) -> AppPolicy | None:
        """See the port."""
        sql = "SELECT presence, add_policy FROM app_policies WHERE app = ?"
        row = await self._run(lambda db: db.execute(sql, (app,)).fetchone())
        return AppPolicy(app, row[0], row[1]) if row else None

    async def set_app_policy(self, policy: AppPolicy) -> None:
        """See the port."""
        sql = "INSERT OR REPLACE INTO app_policies (app, presence, add_policy) VALUES (?, ?, ?)"
        await self._run(lambda db: db.execute(sql, (policy.app, policy.presence, policy.add)))
