"""History pages and reconnect sync, both as seq ranges over the store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import msgspec

from parley.proto import frames
from parley.proto.errors import ErrorCode
from parley.server.errors import ServiceError
from parley.server.models import StoredMessage
from parley.server.store_ports import Conversations, MessageLog

__all__ = ["MAX_PAGE_BYTES", "HistoryService", "SyncResult"]


class HistoryStore(Conversations, MessageLog, Protocol):
    """The role ports this service uses: conversations and their message log."""


#: A page is one frame; keep it well under the SDK's 16 MiB frame limit even
#: when every message is near the 64 KiB send limit.
MAX_PAGE_BYTES = 4 * 1024 * 1024
_PER_MESSAGE_OVERHEAD = 256


def _within_bytes(ordered: list[StoredMessage]) -> list[StoredMessage]:
    """The longest prefix of ``ordered`` whose estimated encoded size fits a page (at least one)."""
    total = 0
    for index, message in enumerate(ordered):
        total += len(msgspec.msgpack.encode(message.body)) + _PER_MESSAGE_OVERHEAD
        if total > MAX_PAGE_BYTES and index > 0:
            return ordered[:index]
    return ordered


class SyncResult:
    """Messages to replay (in order) and the per-conversation states for ``synced``."""

    def __init__(self) -> None:
        self.messages: list[StoredMessage] = []
        #: Non-empty: conversations after this id are in the next page.
        self.next = ""
        self.states: list[frames.SyncState] = []


class HistoryService:
    """History pages and reconnect sync as seq ranges over the message log (dense seqs, so a
    range is exact). A page is bounded in count and bytes (:data:`MAX_PAGE_BYTES`), a sync in
    count (``limit`` per conversation, ``budget`` in all).
    """

    def __init__(self, store: HistoryStore) -> None:
        self._store = store
        #: Told ``(app, reader, messages)`` whenever a sync or history page returns messages to a
        #: user (the ``delivered`` count of marketing messages); must not block.
        self.on_returned: Callable[[str, str, Sequence[StoredMessage]], None] | None = None

    async def messages(self, app: str, conv: str, first: int, last: int) -> list[StoredMessage]:
        """Stored messages with ``first <= seq <= last``, ascending (no access check: callers
        are the admin API and services acting for the app)."""
        return await self._store.get_messages(app, conv, first, last)

    async def page(
        self, app: str, conv: str, *, before: int | None, after: int | None, limit: int, reader: str = ""
    ) -> tuple[list[StoredMessage], bool]:
        """One page, ascending by seq, and whether more exist in the paging direction (``reader``: the
        user it is for, told to :attr:`on_returned`)."""
        conversation = await self._store.get_conversation(app, conv)
        if conversation is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no conversation {conv}")
        last_seq = conversation.last_seq
        if before is not None and after is not None:
            raise ServiceError(ErrorCode.INVALID_REQUEST, "give 'before' or 'after', not both")
        if after is not None:
            if after > last_seq:
                raise ServiceError(
                    ErrorCode.OUT_OF_RANGE, f"after={after} is beyond the last message ({last_seq})"
                )
            first, last = after + 1, min(last_seq, after + limit)
            more = last < last_seq
        else:
            end = last_seq + 1 if before is None else before
            if end > last_seq + 1 or end < 1:
                raise ServiceError(ErrorCode.OUT_OF_RANGE, f"before={before} is outside 1..{last_seq + 1}")
            first, last = max(1, end - limit), end - 1
            more = first > 1
        if last < first:
            return [], False
        messages = await self._store.get_messages(app, conv, first, last)
        kept = _within_bytes(messages if after is not None else messages[::-1])
        if len(kept) < len(messages):
            more = True
            messages = kept if after is not None else kept[::-1]
        if reader and messages and self.on_returned is not None:
            self.on_returned(app, reader, messages)
        return messages, more

    async def sync(
        self,
        app: str,
        user: str,
        positions: Sequence[frames.Position],
        limit: int,
        budget: int,
        *,
        after: str = "",
        page: int | None = None,
    ) -> SyncResult:
        """What ``user`` missed after ``positions``: up to ``limit`` per conversation and
        ``budget`` in all (the rest is marked ``more``), so a replay never overflows
        the connection's outbound queue. Covers the user's conversations with ids after
        ``after``, at most ``page`` of them (``result.next`` says where to go on)."""
        result = SyncResult()
        rows = [row for row in await self._store.list_user_conversations(app, user) if row[0].conv > after]
        if page is not None and len(rows) > page:
            rows = rows[:page]
            result.next = rows[-1][0].conv
        asked = {
            p.conv: p for p in positions if p.conv > after and (not result.next or p.conv <= result.next)
        }
        for conversation, _member in rows:
            state = frames.SyncState(
                conv=conversation.conv, last_seq=conversation.last_seq, epoch=conversation.epoch
            )
            position = asked.pop(conversation.conv, None)
            if position is not None:
                stale = position.epoch and position.epoch != conversation.epoch
                if stale or position.seq > conversation.last_seq:
                    state.reset = True
                elif position.seq < conversation.last_seq:
                    room = min(limit, budget - len(result.messages))
                    last = min(conversation.last_seq, position.seq + max(0, room))
                    if last > position.seq:
                        result.messages.extend(
                            await self._store.get_messages(app, conversation.conv, position.seq + 1, last)
                        )
                    state.more = last < conversation.last_seq
            result.states.append(state)
        # Positions for conversations the user is no longer in (or that vanished): reset them.
        for conv in asked:
            result.states.append(frames.SyncState(conv=conv, last_seq=0, epoch="", reset=True))
        if result.messages and self.on_returned is not None:
            self.on_returned(app, user, result.messages)
        return result
