"""The table of requests waiting for a reply, matched by request ``id``.

Pure bookkeeping over futures: no socket. The connection registers an id
before writing a request frame; the read loop hands every reply frame to
:meth:`PendingRequests.resolve`; a lost connection fails whatever is left.
"""

from __future__ import annotations

import asyncio

from parley.proto import frames as f
from parley.sdk.errors import ReplyError

__all__ = ["REPLY_FRAMES", "PendingRequests", "Reply"]

#: Frames that answer a request (plus ``error`` frames carrying an ``id``).
Reply = (
    f.Ack
    | f.Ok
    | f.ConvResult
    | f.ConvListResult
    | f.Page
    | f.Synced
    | f.SupportList
    | f.ProfileResult
    | f.Blocks
    | f.MemberPage
    | f.Invitations
    | f.TrackResult
    | f.Identified
)
REPLY_FRAMES = (
    f.Ack, f.Ok, f.ConvResult, f.ConvListResult, f.Page, f.Synced, f.SupportList, f.ProfileResult, f.Blocks,
    f.MemberPage, f.Invitations, f.TrackResult, f.Identified,
)  # fmt: skip

_MAX_ID = 2**53


class PendingRequests:
    """Futures of in-flight requests by id. Ids are unique for the client's lifetime."""

    def __init__(self) -> None:
        self._next = 0
        self._pending: dict[int, asyncio.Future[Reply]] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, request_id: object) -> bool:
        return request_id in self._pending

    def next_id(self) -> int:
        """A fresh request id (never reused while the client lives)."""
        self._next = self._next + 1 if self._next < _MAX_ID else 1
        return self._next

    def register(self, request_id: int) -> asyncio.Future[Reply]:
        """Expect a reply to ``request_id``; await the returned future for it."""
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        return future

    def resolve(self, frame: Reply | f.Error) -> bool:
        """Complete the request ``frame`` answers; False if nobody was waiting for it."""
        request_id = frame.id
        if request_id is None:
            return False
        future = self._pending.pop(request_id, None)
        if future is None or future.done():
            return False
        if isinstance(frame, f.Error):
            future.set_exception(ReplyError(frame.code, frame.message, frame.action))
        else:
            future.set_result(frame)
        return True

    def discard(self, request_id: int) -> None:
        """Forget ``request_id`` (the caller gave up waiting)."""
        self._pending.pop(request_id, None)

    def fail_all(self, exc: BaseException) -> None:
        """Fail every pending request with ``exc`` (the connection was lost)."""
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(exc)
