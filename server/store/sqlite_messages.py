"""The :class:`~parley.server.store_ports.MessageLog` role of the SQLite adapter (the hot path).

``append`` is one worker-thread call and one write transaction per batch (the group
commit of ``services/batching.py``); each conversation's last seq is cached on the
worker thread (:class:`LastSeqs`) so that appending reads no seq while no other
connection wrote to the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parley.server.models import Appended, NewMessage, StoredMessage
from parley.server.store.sqlite_recall import recall
from parley.server.store.sqlite_schema import LOG_COLS, pack, to_message
from parley.server.store.sqlite_worker import ConvKeys, Db, SQLiteWorker, immediate

__all__ = ["LastSeqs", "SQLiteMessageLog"]

_NO_MENTIONS = pack([])


class LastSeqs:
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


class SQLiteMessageLog:
    """Messages in ``message_log``, keyed by the conversation's ckey and seq."""

    def __init__(self, worker: SQLiteWorker) -> None:
        self._w = worker
        self._seqs = LastSeqs()

    async def append(self, batch: Sequence[NewMessage]) -> list[Appended]:
        """See the port. ``LookupError`` for a conversation that does not exist."""
        if not batch:
            return []
        w = self._w
        w.appended += len(batch)
        return await w.run(lambda db: _append(db, batch, self._seqs, w.ckeys))

    async def get_messages(self, app: str, conv: str, first: int, last: int) -> list[StoredMessage]:
        """See the port."""
        sql = f"SELECT {LOG_COLS} FROM message_log WHERE ckey = ? AND seq BETWEEN ? AND ? ORDER BY seq"
        ckeys = self._w.ckeys

        def q(db: Db) -> list[Any]:
            ckey = ckeys.get(db, app, conv)
            return [] if ckey is None else db.execute(sql, (ckey, first, last)).fetchall()

        rows = await self._w.run(q)
        return [to_message(app, conv, r) for r in rows]

    async def edit_message(
        self, app: str, conv: str, seq: int, body: dict[str, Any], edited: int
    ) -> StoredMessage | None:
        """See the port. A recalled message is returned unchanged (check ``.recalled``)."""
        update = "UPDATE message_log SET body = ?, edited = ? WHERE ckey = ? AND seq = ? AND NOT recalled"
        return await self._w.run(lambda db: self._update(db, update, (pack(body), edited), app, conv, seq))

    async def recall_message(self, app: str, conv: str, seq: int) -> StoredMessage | None:
        """See the port: the tombstone and the scrub of its edit records (``sqlite_recall``)."""
        ckeys = self._w.ckeys
        return await self._w.run(lambda db: recall(db, ckeys.get(db, app, conv), app, conv, seq))

    def _update(
        self, db: Db, update: str, values: tuple[Any, ...], app: str, conv: str, seq: int
    ) -> StoredMessage | None:
        ckey = self._w.ckeys.get(db, app, conv)
        if ckey is None:
            return None
        with immediate(db):
            db.execute(update, (*values, ckey, seq))
            row = db.execute(
                f"SELECT {LOG_COLS} FROM message_log WHERE ckey = ? AND seq = ?", (ckey, seq)
            ).fetchone()
        return to_message(app, conv, row) if row else None


def _append(db: Db, batch: Sequence[NewMessage], cache: LastSeqs, ckeys: ConvKeys) -> list[Appended]:
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
    with immediate(db):
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
