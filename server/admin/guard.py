"""What keeps one back-end (or one leaked API key) from hurting a node through the admin API.

* :class:`AdminGuard`, ASGI middleware on ``/v1/...``: a request body is never
  read whole past its limit. A declared ``Content-Length`` over the limit is
  answered ``413 body_too_large`` at once, before a byte of the body is read; a
  body without one (chunked) is counted as it streams in and refused as soon as
  it passes the limit. The knowledge upload (chunks and their vectors) has its
  own, larger limit. A 413 closes the connection (``Connection: close``): the
  unread rest of the body cannot be skipped safely. Anything a handler raises
  unexpectedly becomes a ``500 internal`` problem, never a plain-text page, and
  keep-alive survives it.
* :class:`KeyRateLimiter`: a token bucket per API key (the gateway's
  :class:`~parley.server.gateway.limits.TokenBucket`), checked after the key is
  known to be valid, so unknown keys cannot fill its memory; ``429
  rate_limited`` with ``Retry-After`` (whole seconds, rounded up).
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.proto.errors import ErrorCode
from parley.server.admin.problems import problem
from parley.server.errors import ServiceError
from parley.server.gateway.limits import TokenBucket

__all__ = ["AdminGuard", "KeyRateLimiter", "UPLOAD_PREFIX"]

log = logging.getLogger("parley.admin")

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
            await _answer(scope, receive, send, BodyTooLarge(limit))
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
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
                await _answer(scope, receive, send, exc)
        except Exception:
            log.exception("admin API: unexpected error on %s %s", scope.get("method"), path)
            if not started:
                response = problem(ErrorCode.INTERNAL, "internal error; retry later")
                await response(scope, receive, send)


async def _answer(scope: Scope, receive: Receive, send: Send, exc: BodyTooLarge) -> None:
    response = problem(exc.code, exc.message)
    response.headers["connection"] = "close"
    await response(scope, receive, send)


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
