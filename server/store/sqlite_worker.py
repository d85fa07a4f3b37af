"""The one connection of a SQLite store and the worker thread that owns it.

Every role of the SQLite adapter (``sqlite_directory``, ``sqlite_conversations``,
``sqlite_messages``, ``sqlite_service``, ``sqlite_safety``) is a small class over one
:class:`SQLiteWorker`, so that all of them share one connection, one write lock and one
hop to the thread.

All database work runs on one dedicated worker thread that owns the only
connection, so the event loop never blocks and sqlite3 objects never cross
threads. Store calls made while the thread is busy (or in the same loop turn)
share one hop to it: each runs as before, in order, with its own result or
error, but a connect storm or a burst of receipts wakes the thread once, not
once per call. A batch ``append`` is one call: one transaction.

Writes that read before they write take ``BEGIN IMMEDIATE`` (:func:`immediate`): the
write lock is held from the first read, so two processes (or two stores) on the same
file serialise there and seqs stay dense.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import Any, TypeVar, cast

from parley.server.coalesce import Coalescer
from parley.server.ports import StoreUnavailable

__all__ = [
    "CHECKPOINT_INTERVAL",
    "CHECKPOINT_MAX_AGE",
    "CHECKPOINT_MESSAGES",
    "WAL_CHECKPOINT_PAGES",
    "ConvKeys",
    "Db",
    "SQLiteWorker",
    "immediate",
]

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
#: The connection type every worker-thread function receives.
Db = sqlite3.Connection

# Primary result codes meaning "try again later" rather than "bad statement".
_TRANSIENT = frozenset(
    {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN}
)


@contextmanager
def immediate(db: Db) -> Iterator[None]:
    """A write transaction that holds the write lock from its first statement."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


class ConvKeys:
    """(app, conv) -> the conversation's ckey (worker thread only). A ckey never changes."""

    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], int] = {}

    def get(self, db: Db, app: str, conv: str) -> int | None:
        """The ckey of ``(app, conv)``; None if there is no such conversation."""
        ckey = self.keys.get((app, conv))
        if ckey is None:
            row = db.execute(
                "SELECT ckey FROM conversations WHERE app = ? AND conv = ?", (app, conv)
            ).fetchone()
            if row is None:
                return None
            ckey = self.keys[(app, conv)] = row[0]
        return ckey


class SQLiteWorker:
    """One SQLite file (or ``":memory:"``), its connection, its worker thread and its
    background checkpointer: what every role class of the adapter runs on.

    WAL journal, ``synchronous=NORMAL``: a crash may lose the last transactions
    but never corrupts the file. ``busy_timeout`` (seconds) bounds the wait for
    another process's write lock; past it a call raises ``StoreUnavailable``.
    """

    def __init__(self, path: str, *, busy_timeout: float = 5.0) -> None:
        self.path = path
        self._busy_timeout = busy_timeout
        self._executor: ThreadPoolExecutor | None = None
        self._jobs: Coalescer[Callable[[Db], Any], tuple[bool, Any]] | None = None
        # Touched only on the worker thread.
        self._db: Db | None = None
        #: The ckey cache shared by the roles (worker thread only).
        self.ckeys = ConvKeys()
        self.calls = 0
        #: Messages appended so far (the checkpointer's measure of WAL growth).
        self.appended = 0
        self.checkpointer: asyncio.Task[None] | None = None
        #: Background checkpoints that ran, and the last one's (busy, WAL frames, copied frames).
        self.checkpoints = 0
        self.last_checkpoint: tuple[int, int, int] | None = None

    async def run(self, fn: Callable[[Db], T]) -> T:
        """Run ``fn(connection)`` on the worker thread; its result, or what it raised
        (transient SQLite errors as ``StoreUnavailable``)."""
        if self._executor is None:
            raise RuntimeError("SQLiteStore is not open")
        if self._jobs is None:
            self._jobs = Coalescer(self._run_batch, max_batch=_MAX_JOBS)
        self.calls += 1
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
            db = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"sqlite: cannot open {self.path!r}: {exc}") from exc
        self._db = db

    async def open(self, init: Callable[[Db], None]) -> None:
        """Connect, run ``init`` (schema, migrations) and start the checkpointer (idempotent)."""
        if self._executor is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parley-sqlite")
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._connect)
            await self.run(init)
        except BaseException:
            await self.close()
            raise
        if self.path != ":memory:" and not self.path.startswith("file::memory:"):
            self.checkpointer = asyncio.create_task(self._checkpoint_loop(), name="parley-sqlite-checkpoint")

    async def _checkpoint_loop(self) -> None:
        """Copy the WAL into the database from a second connection on its own thread, while
        the writer goes on (a PASSIVE checkpoint takes no lock that writers wait for)."""
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="parley-sqlite-ckpt") as executor:
            db = await loop.run_in_executor(executor, lambda: sqlite3.connect(self.path, timeout=0))
            try:
                calls, appended, waited = self.calls, self.appended, 0.0
                while True:
                    await asyncio.sleep(CHECKPOINT_INTERVAL)
                    if self.calls == calls:
                        continue
                    waited += CHECKPOINT_INTERVAL
                    if self.appended - appended < CHECKPOINT_MESSAGES and waited < CHECKPOINT_MAX_AGE:
                        continue
                    calls, appended, waited = self.calls, self.appended, 0.0
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
        """Stop the checkpointer and close the connection (calls queued before still complete)."""
        checkpointer, self.checkpointer = self.checkpointer, None
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
