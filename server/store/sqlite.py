"""SQLite adapter of :class:`~parley.server.ports.Store` (the embedded default).

All database work runs on one dedicated worker thread that owns the only
connection, so the event loop never blocks and sqlite3 objects never cross
threads. Store calls made while the thread is busy (or in the same loop turn)
share one hop to it: each runs as before, in order, with its own result or
error, but a connect storm or a burst of receipts wakes the thread once, not
once per call. A batch ``append`` is one call: one transaction.

Writes that read before they write take ``BEGIN IMMEDIATE``: the write lock is
held from the first read, so two processes (or two :class:`SQLiteStore`
instances) on the same file serialise there and seqs stay dense.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import Any, TypeVar, cast

from parley.server.coalesce import Coalescer
from parley.server.models import App, Appended, Conversation, Member, NewMessage, StoredMessage, User
from parley.server.ports import StoreUnavailable
from parley.server.store.sqlite_invites import INVITES_SCHEMA, InvitationTables
from parley.server.store.sqlite_members import MEMBER_QUERY_SCHEMA, MemberQueries
from parley.server.store.sqlite_recall import recall
from parley.server.store.sqlite_safety import SAFETY_SCHEMA, SafetyTables
from parley.server.store.sqlite_schema import (
    APP_COLS,
    CONV_COLS,
    CONV_WIDTH,
    LOG_COLS,
    MEMBER_COLS,
    MIGRATE_MESSAGES,
    MIGRATIONS,
    SCHEMA,
    USER_COLS,
    pack,
    to_app,
    to_conversation,
    to_member,
    to_message,
    to_user,
)
from parley.server.store.sqlite_service import SERVICE_SCHEMA, KnowledgeTables, ServiceTables

__all__ = ["SQLiteStore"]

log = logging.getLogger("parley.store")

T = TypeVar("T")

#: WAL pages at which the writer itself checkpoints (SQLite's default: 1 000), blocking the
#: writes queued behind it. It is the bound, not the routine: a background connection copies
#: the WAL into the database in the background (CHECKPOINT_*) without blocking the writer, so this
#: checkpoint only copies what the last background pass missed and then lets the WAL restart
#: (a WAL restarts only when a checkpoint has caught up with it, which under continuous
#: writes only the writer's own checkpoint can guarantee). The WAL stays under ~40 MiB.
WAL_CHECKPOINT_PAGES = 10_000

#: Seconds between looks at the WAL by the background checkpointer. It checkpoints once
#: CHECKPOINT_MESSAGES messages were appended since the last time (every look, under load),
#: or CHECKPOINT_MAX_AGE seconds after the first write since then (light traffic). Chat
#: rewrites the same index pages (a conversation's latest leaves) again and again; a
#: checkpoint copies each page once however often it changed in between. Checkpointing on
#: every look even under light traffic measurably delayed the writes that met its fsync.
CHECKPOINT_INTERVAL = 0.5
CHECKPOINT_MESSAGES = 2_000
CHECKPOINT_MAX_AGE = 10.0

#: Store calls per hop to the worker thread.
_MAX_JOBS = 256
Db = sqlite3.Connection

# Primary result codes meaning "try again later" rather than "bad statement".
_TRANSIENT = frozenset(
    {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN}
)


@contextmanager
def _immediate(db: Db) -> Iterator[None]:
    """A write transaction that holds the write lock from its first statement."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


class SQLiteStore(ServiceTables, KnowledgeTables, SafetyTables, InvitationTables, MemberQueries):
    """The :class:`~parley.server.ports.Store` port on a SQLite file (or ``":memory:"``).

    WAL journal, ``synchronous=NORMAL``: a crash may lose the last transactions
    but never corrupts the file. ``busy_timeout`` (seconds) bounds the wait for
    another process's write lock; past it a call raises ``StoreUnavailable``.
    """

    def __init__(self, path: str, *, busy_timeout: float = 5.0) -> None:
        self._path = path
        self._busy_timeout = busy_timeout
        self._executor: ThreadPoolExecutor | None = None
        self._jobs: Coalescer[Callable[[Db], Any], tuple[bool, Any]] | None = None
        # Touched only on the worker thread.
        self._db: Db | None = None
        self._seqs = _LastSeqs()
        self._ckeys = _ConvKeys()
        self._calls = 0
        #: Messages appended so far (the checkpointer's measure of WAL growth).
        self._appended = 0
        self._checkpointer: asyncio.Task[None] | None = None
        #: Background checkpoints that ran, and the last one's (busy, WAL frames, copied frames).
        self.checkpoints = 0
        self.last_checkpoint: tuple[int, int, int] | None = None

    # plumbing ---------------------------------------------------------
    async def _run(self, fn: Callable[[Db], T]) -> T:
        if self._executor is None:
            raise RuntimeError("SQLiteStore is not open")
        if self._jobs is None:
            self._jobs = Coalescer(self._run_batch, max_batch=_MAX_JOBS)
        self._calls += 1
        failed, result = await self._jobs.submit(fn)
        if failed:
            raise result
        return cast(T, result)

    async def _run_batch(self, fns: Sequence[Callable[[Db], Any]]) -> list[tuple[bool, Any]]:
        if self._executor is None:
            raise StoreUnavailable("sqlite: the store is closed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._call_each, fns)

    def _call_each(self, fns: Sequence[Callable[[Db], Any]]) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        for fn in fns:
            try:
                outcomes.append((False, self._call(fn)))
            except Exception as exc:
                outcomes.append((True, exc))
        return outcomes

    def _call(self, fn: Callable[[Db], T]) -> T:
        if self._db is None:
            raise RuntimeError("SQLiteStore is not open")
        try:
            return fn(self._db)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF in _TRANSIENT:
                raise StoreUnavailable(f"sqlite: {exc}") from exc
            raise

    def _connect(self) -> None:
        try:
            db = sqlite3.connect(self._path, timeout=self._busy_timeout, isolation_level=None)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"sqlite: cannot open {self._path!r}: {exc}") from exc
        self._db = db

    @staticmethod
    def _init(db: Db) -> None:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        db.executescript(SCHEMA)
        db.executescript(SERVICE_SCHEMA)
        db.executescript(SAFETY_SCHEMA)
        db.executescript(INVITES_SCHEMA)
        db.executescript(MEMBER_QUERY_SCHEMA)
        _migrate(db)

    async def open(self) -> None:
        if self._executor is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parley-sqlite")
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._connect)
            await self._run(self._init)
        except BaseException:
            await self.close()
            raise
        if self._path != ":memory:" and not self._path.startswith("file::memory:"):
            self._checkpointer = asyncio.create_task(self._checkpoint_loop(), name="parley-sqlite-checkpoint")

    async def _checkpoint_loop(self) -> None:
        """Copy the WAL into the database from a second connection on its own thread, while
        the writer goes on (a PASSIVE checkpoint takes no lock that writers wait for)."""
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="parley-sqlite-ckpt") as executor:
            db = await loop.run_in_executor(executor, lambda: sqlite3.connect(self._path, timeout=0))
            try:
                calls, appended, waited = self._calls, self._appended, 0.0
                while True:
                    await asyncio.sleep(CHECKPOINT_INTERVAL)
                    if self._calls == calls:
                        continue
                    waited += CHECKPOINT_INTERVAL
                    if self._appended - appended < CHECKPOINT_MESSAGES and waited < CHECKPOINT_MAX_AGE:
                        continue
                    calls, appended, waited = self._calls, self._appended, 0.0
                    try:
                        row = await loop.run_in_executor(
                            executor, lambda: db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                        )
                    except sqlite3.Error as exc:
                        log.debug("background checkpoint failed: %s", exc)
                        continue
                    self.checkpoints += 1
                    self.last_checkpoint = (row[0], row[1], row[2])
            finally:
                await loop.run_in_executor(executor, db.close)

    async def close(self) -> None:
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.cancel()
            with suppress(asyncio.CancelledError):
                await checkpointer
        executor, self._executor = self._executor, None
        if executor is None:
            return

        def shut() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        # The executor is FIFO: calls queued before close() still complete.
        await asyncio.get_running_loop().run_in_executor(executor, shut)
        executor.shutdown(wait=False)

    async def ping(self) -> None:
        await self._run(lambda db: db.execute("SELECT 1").fetchone())

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

        await self._run(q)

    async def get_app(self, app: str) -> App | None:
        row = await self._run(
            lambda db: db.execute(f"SELECT {APP_COLS} FROM apps WHERE app = ?", (app,)).fetchone()
        )
        return to_app(row) if row else None

    async def list_apps(self) -> list[App]:
        rows = await self._run(lambda db: db.execute(f"SELECT {APP_COLS} FROM apps ORDER BY app").fetchall())
        return [to_app(r) for r in rows]

    async def add_api_key(self, app: str, key_hash: str, created: int) -> None:
        await self._run(
            lambda db: db.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?) ON CONFLICT (key_hash) DO NOTHING",
                (key_hash, app, created),
            )
        )

    async def app_for_key(self, key_hash: str) -> App | None:
        sql = f"SELECT {APP_COLS} FROM apps WHERE app = (SELECT app FROM api_keys WHERE key_hash = ?)"
        row = await self._run(lambda db: db.execute(sql, (key_hash,)).fetchone())
        return to_app(row) if row else None

    # users ------------------------------------------------------------
    async def upsert_user(self, user: User) -> User:
        sql = (
            f"INSERT INTO users ({USER_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (app, user) "
            "DO UPDATE SET name = excluded.name, role = excluded.role, meta = excluded.meta "
            f"RETURNING {USER_COLS}"
        )
        args = (user.app, user.user, user.name, user.role, pack(user.meta), user.created, user.last_seen)
        row = await self._run(lambda db: db.execute(sql, args).fetchone())
        return to_user(row)

    async def get_user(self, app: str, user: str) -> User | None:
        sql = f"SELECT {USER_COLS} FROM users WHERE app = ? AND user = ?"
        row = await self._run(lambda db: db.execute(sql, (app, user)).fetchone())
        return to_user(row) if row else None

    async def set_last_seen(self, app: str, user: str, ts: int) -> None:
        # max(): several gateway nodes may report the same user out of order.
        sql = (
            f"INSERT INTO users ({USER_COLS}) VALUES (?, ?, '', 'user', ?, ?, ?) ON CONFLICT (app, user) "
            "DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)"
        )
        await self._run(lambda db: db.execute(sql, (app, user, pack({}), ts, ts)))

    # conversations ----------------------------------------------------
    async def create_conversation(self, conv: Conversation, members: Sequence[Member]) -> Conversation:
        """See the port. A ``conv`` id that already exists also returns the stored one unchanged."""
        select = f"SELECT {CONV_COLS} FROM conversations WHERE app = ? AND "

        def q(db: Db) -> Conversation:
            with _immediate(db):
                if conv.direct_key is not None:
                    row = db.execute(select + "direct_key = ?", (conv.app, conv.direct_key)).fetchone()
                    if row:
                        return to_conversation(row)
                row = db.execute(select + "conv = ?", (conv.app, conv.conv)).fetchone()
                if row:
                    return to_conversation(row)
                db.execute(
                    f"INSERT INTO conversations ({CONV_COLS}, ckey) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, "
                    "(SELECT coalesce(max(ckey), 0) + 1 FROM conversations))",
                    (
                        conv.app,
                        conv.conv,
                        conv.kind,
                        conv.epoch,
                        conv.created,
                        conv.name,
                        pack(conv.meta),
                        conv.created_by,
                        conv.direct_key,
                    ),
                )
                _insert_members(db, members)
                return to_conversation(db.execute(select + "conv = ?", (conv.app, conv.conv)).fetchone())

        return await self._run(q)

    async def get_conversation(self, app: str, conv: str) -> Conversation | None:
        sql = f"SELECT {CONV_COLS} FROM conversations WHERE app = ? AND conv = ?"
        row = await self._run(lambda db: db.execute(sql, (app, conv)).fetchone())
        return to_conversation(row) if row else None

    async def update_conversation(
        self, app: str, conv: str, *, name: str | None = None, meta: dict[str, Any] | None = None
    ) -> Conversation | None:
        """Set ``name`` and/or replace ``meta`` (not merged); None if the conversation is absent."""
        sql = (
            "UPDATE conversations SET name = coalesce(?, name), meta = coalesce(?, meta) "
            f"WHERE app = ? AND conv = ? RETURNING {CONV_COLS}"
        )
        args = (name, None if meta is None else pack(meta), app, conv)
        row = await self._run(lambda db: db.execute(sql, args).fetchone())
        return to_conversation(row) if row else None

    async def list_user_conversations(self, app: str, user: str) -> list[tuple[Conversation, Member]]:
        """See the port; ordered by conversation id."""
        cols = ", ".join(f"c.{c}" for c in CONV_COLS.split(", ")) + ", "
        cols += ", ".join(f"m.{c}" for c in MEMBER_COLS.split(", "))
        sql = (
            f"SELECT {cols} FROM members m JOIN conversations c ON c.app = m.app AND c.conv = m.conv "
            "WHERE m.app = ? AND m.user = ? ORDER BY c.conv"
        )
        rows = await self._run(lambda db: db.execute(sql, (app, user)).fetchall())
        return [(to_conversation(r[:CONV_WIDTH]), to_member(r[CONV_WIDTH:])) for r in rows]

    # members ----------------------------------------------------------
    async def get_member(self, app: str, conv: str, user: str) -> Member | None:
        sql = f"SELECT {MEMBER_COLS} FROM members WHERE app = ? AND conv = ? AND user = ?"
        row = await self._run(lambda db: db.execute(sql, (app, conv, user)).fetchone())
        return to_member(row) if row else None

    async def list_members(self, app: str, conv: str) -> list[Member]:
        """See the port; ordered by join time, then user id."""
        sql = f"SELECT {MEMBER_COLS} FROM members WHERE app = ? AND conv = ? ORDER BY joined, user"
        rows = await self._run(lambda db: db.execute(sql, (app, conv)).fetchall())
        return [to_member(r) for r in rows]

    async def add_members(self, members: Sequence[Member]) -> list[Member]:
        def q(db: Db) -> list[Member]:
            with _immediate(db):
                return _insert_members(db, members)

        return await self._run(q) if members else []

    async def remove_members(self, app: str, conv: str, users: Collection[str]) -> list[str]:
        sql = "DELETE FROM members WHERE app = ? AND conv = ? AND user = ? RETURNING user"

        def q(db: Db) -> list[str]:
            with _immediate(db):
                return [r[0] for u in users for r in db.execute(sql, (app, conv, u)).fetchall()]

        return await self._run(q) if users else []

    async def set_member_role(self, app: str, conv: str, user: str, role: str) -> bool:
        sql = "UPDATE members SET role = ? WHERE app = ? AND conv = ? AND user = ?"
        return await self._run(lambda db: db.execute(sql, (role, app, conv, user)).rowcount) > 0

    async def set_read(self, app: str, conv: str, user: str, seq: int) -> int:
        """See the port; returns 0 (and stores nothing) if ``user`` is not a member."""
        sql = (
            "UPDATE members SET read_seq = max(read_seq, ?) WHERE app = ? AND conv = ? AND user = ? "
            "RETURNING read_seq"
        )
        row = await self._run(lambda db: db.execute(sql, (seq, app, conv, user)).fetchone())
        return int(row[0]) if row else 0

    async def set_reads(self, positions: Sequence[tuple[str, str, str, int]]) -> None:
        """See the port: one thread hop and one transaction for all of them."""
        if not positions:
            return
        sql = "UPDATE members SET read_seq = max(read_seq, ?) WHERE app = ? AND conv = ? AND user = ?"
        rows = [(seq, app, conv, user) for app, conv, user, seq in positions]

        def write(db: Db) -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(sql, rows)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

        await self._run(write)

    # messages ---------------------------------------------------------
    async def append(self, batch: Sequence[NewMessage]) -> list[Appended]:
        if not batch:
            return []
        self._appended += len(batch)
        return await self._run(lambda db: _append(db, batch, self._seqs, self._ckeys))

    async def get_messages(self, app: str, conv: str, first: int, last: int) -> list[StoredMessage]:
        sql = f"SELECT {LOG_COLS} FROM message_log WHERE ckey = ? AND seq BETWEEN ? AND ? ORDER BY seq"

        def q(db: Db) -> list[Any]:
            ckey = self._ckeys.get(db, app, conv)
            return [] if ckey is None else db.execute(sql, (ckey, first, last)).fetchall()

        rows = await self._run(q)
        return [to_message(app, conv, r) for r in rows]

    async def edit_message(
        self, app: str, conv: str, seq: int, body: dict[str, Any], edited: int
    ) -> StoredMessage | None:
        """See the port. A recalled message is returned unchanged (check ``.recalled``)."""
        update = "UPDATE message_log SET body = ?, edited = ? WHERE ckey = ? AND seq = ? AND NOT recalled"
        return await self._run(
            lambda db: self._update_message(db, update, (pack(body), edited), app, conv, seq)
        )

    async def recall_message(self, app: str, conv: str, seq: int) -> StoredMessage | None:
        """See the port: the tombstone and the scrub of its edit records (``sqlite_recall``)."""
        return await self._run(lambda db: recall(db, self._ckeys.get(db, app, conv), app, conv, seq))

    def _update_message(
        self, db: Db, update: str, values: tuple[Any, ...], app: str, conv: str, seq: int
    ) -> StoredMessage | None:
        ckey = self._ckeys.get(db, app, conv)
        if ckey is None:
            return None
        with _immediate(db):
            db.execute(update, (*values, ckey, seq))
            row = db.execute(
                f"SELECT {LOG_COLS} FROM message_log WHERE ckey = ? AND seq = ?", (ckey, seq)
            ).fetchone()
        return to_message(app, conv, row) if row else None


# worker-thread helpers --------------------------------------------------


def _insert_members(db: Db, members: Sequence[Member]) -> list[Member]:
    """Insert members that do not exist yet (inside the caller's transaction)."""
    sql = f"INSERT INTO members ({MEMBER_COLS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
    added = []
    for m in members:
        if db.execute(sql, (m.app, m.conv, m.user, m.role, m.joined, m.read_seq)).rowcount:
            added.append(m)
    return added


_NO_MENTIONS = pack([])


class _LastSeqs:
    """Each conversation's last seq, as this connection last wrote it (worker thread only).

    Valid only while no other connection has committed to the file: ``PRAGMA data_version``
    changes when one has, and then the cache is dropped and seqs are read again."""

    __slots__ = ("seqs", "version")

    def __init__(self) -> None:
        self.seqs: dict[int, int] = {}
        self.version: int | None = None

    def validate(self, db: Db) -> None:
        """Call inside the write transaction, before reading from the cache."""
        version = db.execute("PRAGMA data_version").fetchone()[0]
        if version != self.version:
            self.seqs.clear()
            self.version = version


class _ConvKeys:
    """(app, conv) -> the conversation's ckey (worker thread only). A ckey never changes."""

    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], int] = {}

    def get(self, db: Db, app: str, conv: str) -> int | None:
        ckey = self.keys.get((app, conv))
        if ckey is None:
            row = db.execute(
                "SELECT ckey FROM conversations WHERE app = ? AND conv = ?", (app, conv)
            ).fetchone()
            if row is None:
                return None
            ckey = self.keys[(app, conv)] = row[0]
        return ckey


def _migrate(db: Db) -> None:
    """Bring a database written by an older Parley up to date (see ``MIGRATIONS``)."""
    columns = {r[1] for r in db.execute("PRAGMA table_info(conversations)")}
    old_messages = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages'"
    ).fetchone()
    with _immediate(db):
        if "ckey" not in columns:
            db.execute("ALTER TABLE conversations ADD COLUMN ckey INTEGER")
        for statement in MIGRATIONS:
            db.execute(statement)
        if old_messages:
            for statement in MIGRATE_MESSAGES:
                db.execute(statement)


def _append(db: Db, batch: Sequence[NewMessage], cache: _LastSeqs, ckeys: _ConvKeys) -> list[Appended]:
    """Assign seqs and insert, in one write transaction (see the module docstring)."""
    find = f"SELECT {LOG_COLS} FROM message_log WHERE ckey = ? AND sender = ? AND cmid = ?"
    top = "SELECT seq FROM message_log WHERE ckey = ? ORDER BY seq DESC LIMIT 1"
    # The unique (ckey, sender, cmid) index does the dedupe: a repeat (also one
    # inside this batch) inserts nothing, and only then is the original read back.
    insert = (
        f"INSERT INTO message_log (ckey, {LOG_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0) "
        "ON CONFLICT (ckey, sender, cmid) DO NOTHING"
    )
    last: dict[int, int] = {}
    known = cache.seqs
    out: list[Appended] = []
    with _immediate(db):
        cache.validate(db)
        for m in batch:
            ckey = ckeys.get(db, m.app, m.conv)
            if ckey is None:
                raise LookupError(f"sqlite: no conversation {m.conv!r} in app {m.app!r} to append to")
            if ckey not in last:
                seq = known.get(ckey)
                if seq is None:
                    found = db.execute(top, (ckey,)).fetchone()
                    seq = found[0] if found else 0
                last[ckey] = seq
            seq = last[ckey] + 1
            inserted = db.execute(
                insert,
                (
                    ckey,
                    seq,
                    m.mid,
                    m.sender,
                    m.cmid,
                    m.kind,
                    pack(m.body),
                    m.ts,
                    _NO_MENTIONS if not m.mentions else pack(list(m.mentions)),
                ),
            ).rowcount
            if not inserted:
                row = db.execute(find, (ckey, m.sender, m.cmid)).fetchone()
                out.append(Appended(to_message(m.app, m.conv, row), duplicate=True))
                continue
            last[ckey] = seq
            stored = StoredMessage(
                app=m.app,
                conv=m.conv,
                seq=seq,
                mid=m.mid,
                sender=m.sender,
                cmid=m.cmid,
                kind=m.kind,
                body=m.body,
                ts=m.ts,
                mentions=tuple(m.mentions),
            )
            out.append(Appended(stored, duplicate=False))
        db.executemany(
            "UPDATE conversations SET last_seq = max(last_seq, ?) WHERE ckey = ?",
            [(seq, ckey) for ckey, seq in last.items()],
        )
    # Only a committed batch reaches the cache (a rolled-back one changed nothing).
    known.update(last)
    return out
