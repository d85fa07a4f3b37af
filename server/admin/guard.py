"""What keeps one back-end (or one leaked API key) from hurting a node through the admin API.

* :class:`AdminGuard`, ASGI middleware on ``/v1/...``: a request body is never
  read whole past its limit. A declared ``Content-Length`` over the limit is
  answered ``413 body_too_large`` at once, before a byte of the body is read; a
  body without one (chunked) is counted as it streams in and refused as soon as
  it passes the limit. The knowledge upload (chunks and their vectors) has its
  own, larger limit. Before a 413 is sent, the rest of the body is read and
  discarded, up to :data:`LINGER_BYTES` and :data:`LINGER_SECONDS` (nginx's
  "lingering close"): a client that sends its body without waiting (most do)
  gets the 413 and keeps its connection, instead of a reset in mid-send. A body
  larger than that is answered at once and the connection closed. Anything a handler raises
  unexpectedly becomes a ``500 internal`` problem, never a plain-text page, and
  keep-alive survives it.
* :class:`KeyRateLimiter`: a token bucket per API key (the gateway's
  :class:`~parley.server.gateway.limits.TokenBucket`), checked after the key is
  known to be valid, so unknown keys cannot fill its memory; ``429
  rate_limited`` with ``Retry-After`` (whole seconds, rounded up).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.proto.errors import ErrorCode
from parley.server.admin.problems import problem_for
from parley.server.errors import ServiceError
from parley.server.gateway.limits import TokenBucket

__all__ = ["AdminGuard", "KeyRateLimiter", "UPLOAD_PREFIX"]

log = logging.getLogger("parley.admin")

#: The most of a refused body read and discarded so the client gets its 413 (see the module doc).
LINGER_BYTES = 64 * 1024 * 1024
#: The longest a refused body is read for.
LINGER_SECONDS = 10.0

#: Routes under this prefix get the upload limit (``PUT /v1/knowledge/sources/{source}``).
UPLOAD_PREFIX = "/v1/knowledge/sources/"


class BodyTooLarge(ServiceError):
    """Raised from ``receive`` once a streamed body passes its limit (a handler maps it to 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(ErrorCode.BODY_TOO_LARGE, f"the request body exceeds the limit of {limit} bytes")


class AdminGuard:
    """Body limits and problem+json for unexpected errors on the admin API (see the module doc)."""

    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int) -> None:
        self._app = app
        self._max_body = max_body
        self._max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/v1/"):
            await self._app(scope, receive, send)
            return
        limit = self._max_upload if path.startswith(UPLOAD_PREFIX) else self._max_body
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _answer(scope, receive, send, BodyTooLarge(limit), drain=declared <= LINGER_BYTES)
            return
        received = 0
        started = False
        ended = False

        async def counted() -> Message:
            nonlocal received, ended
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                ended = not message.get("more_body", False)
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, counted, watched)
        except BodyTooLarge as exc:
            if not started:
                await _answer(scope, receive, send, exc, ended=ended)
        except Exception as exc:
            log.exception("admin API: unexpected error on %s %s", scope.get("method"), path)
            if not started:
                response = problem_for(exc)
                await response(scope, receive, send)


async def _answer(
    scope: Scope, receive: Receive, send: Send, exc: BodyTooLarge, *, ended: bool = False, drain: bool = True
) -> None:
    """Send the 413. Unless the body has ``ended``, first read and drop the rest of it (if
    ``drain`` allows), so the client is not reset while it is still sending; a body that could
    not be read to its end closes the connection."""
    keep_alive = ended or (drain and await _discard_body(receive))
    response = problem_for(exc)
    if not keep_alive:
        response.headers["connection"] = "close"
    await response(scope, receive, send)


async def _discard_body(receive: Receive) -> bool:
    """Read the request body to its end without keeping it; False past the linger bounds."""
    read = 0
    try:
        async with asyncio.timeout(LINGER_SECONDS):
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return False  # the client went away
                read += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return True
                if read > LINGER_BYTES:
                    return False
    except TimeoutError:
        return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP parser refuses these before the app sees them
    return None


class KeyRateLimiter:
    """One token bucket per API key: ``rate`` requests per second, bursts of ``burst``.

    At most ``max_keys`` buckets are kept (least recently used dropped: a key
    seen again starts with a full bucket, which only errs towards serving).
    """

    def __init__(self, rate: float, burst: float, *, max_keys: int = 10_000) -> None:
        self._rate = rate
        self._burst = max(burst, 1.0)
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def check(self, key: str) -> None:
        """Spend one request of ``key``; raise :class:`RateLimited` if it has none left."""
        if self._rate <= 0:
            return
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self._rate, self._burst)
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        if not bucket.take():
            raise RateLimited(math.ceil(bucket.retry_after()))


class RateLimited(ServiceError):
    """An API key is over its rate; ``retry_after`` is in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            ErrorCode.RATE_LIMITED, f"too many requests for this API key; retry in {retry_after} s"
        )
        self.retry_after = max(1, retry_after)
