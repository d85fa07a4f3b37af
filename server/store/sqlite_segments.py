"""The SQLite adapter's segment roles: rules evaluated in SQL, saved segments and their members.

A role class over the store's one :class:`SQLiteWorker`. Rules become one statement each
(:mod:`parley.server.store.sqlite_segments_sql`); count, sample and snapshots are planned from the
data (:mod:`parley.server.store.sqlite_segments_plan`: the most selective clause drives), pages and
explanations run the per-profile predicate walked along the ``aud_profiles`` primary key. Member
changes and snapshots are one ``BEGIN IMMEDIATE`` transaction each.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from parley.proto.segments import And, Not, Or, Rule
from parley.server.segments_port import EvalContext, SavedSegment
from parley.server.store.sqlite_segments_plan import count_members, first_members, members_sql
from parley.server.store.sqlite_segments_sql import SEGMENT_SCHEMA, predicate
from parley.server.store.sqlite_worker import Db, SQLiteWorker, immediate

__all__ = ["SEGMENT_SCHEMA", "SegmentTables", "clauses"]

_COLS = "app, seg, name, rule, text, mode, frozen_at, created, updated, version, timed"
_LIVE = "p.app = ? AND p.merged_into = ''"


def clauses(rule: Rule, path: str = "") -> Iterator[tuple[str, Rule]]:
    """Every clause of ``rule`` with its JSON-pointer path, the root (``""``) first."""
    yield path, rule
    if isinstance(rule, And | Or):
        for i, item in enumerate(rule.items):
            yield from clauses(item, f"{path}/items/{i}")
    elif isinstance(rule, Not):
        yield from clauses(rule.item, f"{path}/item")


def _segment(r: Any) -> SavedSegment:
    return SavedSegment(r[0], r[1], r[2], bytes(r[3]), r[4], r[5], r[6], r[7], r[8], r[9], bool(r[10]))


class SegmentTables:
    """The SQLite adapter's :class:`~parley.server.segments_port.SegmentsPort` (both roles)."""

    def __init__(self, worker: SQLiteWorker) -> None:
        self._run = worker.run

    async def count_segment(self, app: str, rule: Rule, ctx: EvalContext) -> int:
        """The planned count (:func:`~parley.server.store.sqlite_segments_plan.count_members`)."""
        attrs = dict(ctx.attrs)
        n: int = await self._run(lambda db: count_members(db, app, rule, ctx.now, attrs))
        return n

    async def sample_segment(self, app: str, rule: Rule, ctx: EvalContext, limit: int) -> list[str]:
        """The first ``limit`` members by pid (a bounded walk, else the planned set)."""
        attrs = dict(ctx.attrs)
        pids: list[str] = await self._run(lambda db: first_members(db, app, rule, ctx.now, attrs, limit))
        return pids

    async def preview_segment(
        self, app: str, rule: Rule, ctx: EvalContext, limit: int
    ) -> tuple[int, list[str]]:
        """Count and first pids in one worker call (no write between them: one consistent view)."""
        attrs = dict(ctx.attrs)

        def preview(db: Db) -> tuple[int, list[str]]:
            n = count_members(db, app, rule, ctx.now, attrs)
            return n, (first_members(db, app, rule, ctx.now, attrs, limit) if n else [])

        result: tuple[int, list[str]] = await self._run(preview)
        return result

    async def segment_page(self, app: str, rule: Rule, ctx: EvalContext, after: str, limit: int) -> list[str]:
        """Members after ``after`` by pid: the predicate form walked along the primary key."""
        cond, args = predicate(rule, ctx.now, dict(ctx.attrs))
        query = (
            f"SELECT p.pid FROM aud_profiles p WHERE {_LIVE} AND p.pid > ? AND {cond} ORDER BY p.pid LIMIT ?"
        )
        rows = await self._run(lambda db: db.execute(query, [app, after, *args, limit]).fetchall())
        return [r[0] for r in rows]

    async def profile_page(self, app: str, after: str, limit: int) -> list[str]:
        """Live pids after ``after`` along the primary key (the ``everyone`` audience)."""
        query = f"SELECT p.pid FROM aud_profiles p WHERE {_LIVE} AND p.pid > ? ORDER BY p.pid LIMIT ?"
        rows = await self._run(lambda db: db.execute(query, [app, after, limit]).fetchall())
        return [r[0] for r in rows]

    async def segment_members_among(
        self, app: str, rule: Rule, ctx: EvalContext, pids: Collection[str]
    ) -> set[str]:
        """The predicate over just those profiles (primary-key probes)."""
        wanted = sorted(set(pids))
        if not wanted:
            return set()
        cond, args = predicate(rule, ctx.now, dict(ctx.attrs))
        marks = ", ".join("?" * len(wanted))
        query = f"SELECT p.pid FROM aud_profiles p WHERE {_LIVE} AND p.pid IN ({marks}) AND {cond}"
        rows = await self._run(lambda db: db.execute(query, [app, *wanted, *args]).fetchall())
        return {r[0] for r in rows}

    async def explain_segment(
        self, app: str, rule: Rule, ctx: EvalContext, pid: str
    ) -> dict[str, bool] | None:
        """Every clause's outcome for one profile, as the columns of one SELECT."""
        parts = [(path, predicate(node, ctx.now, dict(ctx.attrs))) for path, node in clauses(rule)]
        cols = ", ".join(p[1][0] for p in parts)
        query = f"SELECT {cols} FROM aud_profiles p WHERE {_LIVE} AND p.pid = ?"
        args = [a for p in parts for a in p[1][1]]
        row = await self._run(lambda db: db.execute(query, [*args, app, pid]).fetchone())
        if row is None:
            return None
        return {path: bool(v) for (path, _), v in zip(parts, row, strict=True)}

    async def put_segment(self, segment: SavedSegment, *, expect_version: int | None = None) -> bool:
        """Insert or replace; with ``expect_version`` a compare-and-set inside one transaction."""
        s = segment
        row = (
            s.app,
            s.id,
            s.name,
            s.rule,
            s.text,
            s.mode,
            s.frozen_at,
            s.created,
            s.updated,
            s.version,
            int(s.timed),
        )

        def put(db: Db) -> bool:
            with immediate(db):
                if expect_version is not None:
                    cur = db.execute(
                        "SELECT version FROM aud_segments WHERE app = ? AND seg = ?", (s.app, s.id)
                    )
                    found = cur.fetchone()
                    if (found[0] if found else 0) != expect_version:
                        return False
                db.execute(
                    f"INSERT OR REPLACE INTO aud_segments ({_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", row
                )
                return True

        done: bool = await self._run(put)
        return done

    async def get_segment(self, app: str, seg: str) -> SavedSegment | None:
        """The saved segment; None if absent."""
        sql = f"SELECT {_COLS} FROM aud_segments WHERE app = ? AND seg = ?"
        row = await self._run(lambda db: db.execute(sql, (app, seg)).fetchone())
        return _segment(row) if row else None

    async def list_segments(self, app: str) -> list[SavedSegment]:
        """Every saved segment of ``app`` by id."""
        sql = f"SELECT {_COLS} FROM aud_segments WHERE app = ? ORDER BY seg"
        rows = await self._run(lambda db: db.execute(sql, (app,)).fetchall())
        return [_segment(r) for r in rows]

    async def delete_segment(self, app: str, seg: str) -> bool:
        """Delete the definition and the stored members in one transaction."""

        def delete(db: Db) -> bool:
            with immediate(db):
                db.execute("DELETE FROM aud_segment_members WHERE app = ? AND seg = ?", (app, seg))
                gone: int = db.execute(
                    "DELETE FROM aud_segments WHERE app = ? AND seg = ?", (app, seg)
                ).rowcount
            return gone > 0

        done: bool = await self._run(delete)
        return done

    async def change_members(
        self, app: str, seg: str, add: Collection[str], remove: Collection[str]
    ) -> tuple[list[str], list[str]]:
        """Insert-or-ignore the added, delete the removed; report only the rows that changed."""

        def change(db: Db) -> tuple[list[str], list[str]]:
            added, removed = [], []
            with immediate(db):
                for pid in sorted(set(add)):
                    ins = "INSERT OR IGNORE INTO aud_segment_members (app, seg, pid) VALUES (?, ?, ?)"
                    if db.execute(ins, (app, seg, pid)).rowcount:
                        added.append(pid)
                for pid in sorted(set(remove) - set(add)):
                    dele = "DELETE FROM aud_segment_members WHERE app = ? AND seg = ? AND pid = ?"
                    if db.execute(dele, (app, seg, pid)).rowcount:
                        removed.append(pid)
            return added, removed

        result: tuple[list[str], list[str]] = await self._run(change)
        return result

    async def stored_members(self, app: str, seg: str, after: str, limit: int) -> list[str]:
        """Stored members after ``after`` by pid (primary-key range)."""
        sql = "SELECT pid FROM aud_segment_members WHERE app = ? AND seg = ? AND pid > ? ORDER BY pid LIMIT ?"
        rows = await self._run(lambda db: db.execute(sql, (app, seg, after, limit)).fetchall())
        return [r[0] for r in rows]

    async def is_stored_member(self, app: str, seg: str, pids: Collection[str]) -> set[str]:
        """Which of ``pids`` are stored members (one primary-key probe each)."""
        wanted = sorted(set(pids))
        if not wanted:
            return set()
        sql = f"SELECT pid FROM aud_segment_members WHERE app = ? AND seg = ? AND pid IN ({', '.join('?' * len(wanted))})"
        rows = await self._run(lambda db: db.execute(sql, (app, seg, *wanted)).fetchall())
        return {r[0] for r in rows}

    async def freeze_segment(self, app: str, seg: str, rule: Rule, ctx: EvalContext) -> int:
        """Replace the members by ``INSERT ... SELECT`` of the planned set: inside SQLite, one transaction."""
        attrs = dict(ctx.attrs)

        def freeze(db: Db) -> int:
            with immediate(db):
                (sql, args), _ = members_sql(db, app, rule, ctx.now, attrs)
                db.execute("DELETE FROM aud_segment_members WHERE app = ? AND seg = ?", (app, seg))
                insert = f"INSERT INTO aud_segment_members (app, seg, pid) SELECT ?, ?, pid FROM ({sql})"
                n: int = db.execute(insert, [app, seg, *args]).rowcount
            return n

        count: int = await self._run(freeze)
        return count
