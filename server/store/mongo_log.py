"""The message-log role of the MongoDB adapter (:class:`~parley.server.store_ports.MessageLog`):
the port's calls, with driver failures mapped, on the shared connection's
:class:`~parley.server.store.mongo_messages.MessageLog` (which assigns the seqs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parley.server.models import Appended, NewMessage, StoredMessage
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_errors import guarded as _guarded

__all__ = ["MongoMessages"]


class MongoMessages:
    """Append, history, edit and recall on the shared client."""

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    # messages ---------------------------------------------------------
    @_guarded
    async def append(self, batch: Sequence[NewMessage]) -> list[Appended]:
        """Persist ``batch`` through the connection's :class:`MessageLog` (see its module for how seqs
        stay dense and unique across processes); results in input order, repeats of a
        ``(sender, cmid)`` returned with ``duplicate=True``. An empty batch makes no round trip.
        """
        return await self._conn.log.append(batch) if batch else []

    @_guarded
    async def get_messages(self, app: str, conv: str, first: int, last: int) -> list[StoredMessage]:
        """Messages with ``first <= seq <= last``, ascending by seq (missing seqs simply absent)."""
        return await self._conn.log.get_messages(app, conv, first, last)

    @_guarded
    async def edit_message(
        self, app: str, conv: str, seq: int, body: dict[str, Any], edited: int
    ) -> StoredMessage | None:
        """See the port. A recalled message is returned unchanged (check ``.recalled``)."""
        return await self._conn.log.edit_message(app, conv, seq, body, edited)

    @_guarded
    async def recall_message(self, app: str, conv: str, seq: int) -> StoredMessage | None:
        """Tombstone the message and scrub its edit records (see :meth:`MessageLog.recall_message`);
        idempotent, so a retry after a failure re-scrubs. None if there is no such message.
        """
        return await self._conn.log.recall_message(app, conv, seq)
