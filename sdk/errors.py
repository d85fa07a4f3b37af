"""Exceptions raised by the Parley SDK.

Exception tree::

    ParleyError                 base of everything the SDK raises on purpose
    ├── ReplyError              the server refused a request (.code, .message, .action)
    ├── ConnectionClosed        the connection is gone and the request cannot complete
    │   └── ClientClosed        ``close()`` was called, or a fatal close ended the client
    ├── RequestTimeout          no reply within the request timeout (or send deadline)
    ├── EventQueueOverflow      a bounded ``events()`` consumer fell behind and lost events
    └── AdminError              the HTTP admin API answered with a problem document
        ├── BodyTooLarge        413: the request body is over the server's limit (never retry as is)
        └── RateLimited         429: this API key is over its rate (.retry_after seconds)

What to do next: a :class:`ReplyError` with ``temporary`` true may succeed if
retried later (``send`` already retries those itself); ``fatal`` ones never
will. After :class:`ConnectionClosed` the client reconnects by itself unless it
is a :class:`ClientClosed`; retry the request once the client is connected.
"""

from __future__ import annotations

from parley.proto.errors import Action, ErrorCode, action_for

__all__ = [
    "AdminError",
    "BodyTooLarge",
    "ClientClosed",
    "ConnectionClosed",
    "EventQueueOverflow",
    "ParleyError",
    "RateLimited",
    "ReplyError",
    "RequestTimeout",
]


class ParleyError(Exception):
    """Base class of every exception the SDK raises deliberately."""


class ReplyError(ParleyError):
    """The server answered a request with an ``error`` frame.

    ``code`` is an :class:`~parley.proto.errors.ErrorCode` value (a string, so
    codes from newer servers survive), ``action`` says what to do about it.
    """

    def __init__(self, code: str, message: str, action: Action | str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        if action is None:
            self.action = action_for(code)
        else:
            try:
                self.action = Action(action)
            except ValueError:
                self.action = action_for(code)

    @property
    def temporary(self) -> bool:
        """True if the same request may succeed when retried later."""
        return self.action is Action.RETRY


class ConnectionClosed(ParleyError):
    """The connection closed before the request completed.

    ``code`` is the WebSocket close code when one is known (else ``None``),
    ``reason`` a human-readable explanation.
    """

    def __init__(self, reason: str = "connection closed", code: int | None = None) -> None:
        super().__init__(reason if code is None else f"{reason} (close code {code})")
        self.code = code
        self.reason = reason


class ClientClosed(ConnectionClosed):
    """The client is closed for good: ``close()`` was called or the server refused it.

    ``error`` holds the refusal (for example a :class:`ReplyError` with code
    ``token_invalid``) when the server ended the client, else ``None``.
    """

    def __init__(
        self, reason: str = "client closed", code: int | None = None, error: BaseException | None = None
    ) -> None:
        super().__init__(reason, code)
        self.error = error


class RequestTimeout(ParleyError):
    """No reply arrived in time. For ``send`` the message may still have been stored."""


class EventQueueOverflow(ParleyError):
    """A bounded ``events()`` consumer fell behind: its queue filled and later events were lost."""


class AdminError(ParleyError):
    """The admin API refused a call: HTTP ``status``, Parley error ``code``, ``detail``."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail


class BodyTooLarge(AdminError):
    """The admin API refused a request body over its limit (HTTP 413, ``body_too_large``).

    Retrying the same request never helps: send less (split a knowledge upload
    into several sources, a big ``meta`` into a profile's attributes...).
    """


class RateLimited(AdminError):
    """The API key is over its request rate (HTTP 429, ``rate_limited``).

    ``retry_after`` is the server's ``Retry-After`` in seconds (``None`` if it
    sent none): wait that long before the next request with this key. The
    :class:`~parley.sdk.admin.AdminClient` does not retry by itself.
    """

    def __init__(self, status: int, code: str, detail: str, retry_after: float | None = None) -> None:
        super().__init__(status, code, detail)
        self.retry_after = retry_after


def admin_error(status: int, data: object, fallback: str, retry_after: str | None = None) -> AdminError:
    """The exception for an admin API error response: ``data`` is its decoded JSON (a problem
    document, or anything else), ``fallback`` the detail when it is not one, ``retry_after``
    the ``Retry-After`` header."""
    code, detail = "http_error", fallback
    if isinstance(data, dict):
        code = str(data.get("code") or data.get("type") or code)
        detail = str(data.get("detail") or data.get("title") or fallback)
    if status == 413:
        return BodyTooLarge(status, ErrorCode.BODY_TOO_LARGE.value if code == "http_error" else code, detail)
    if status == 429:
        return RateLimited(
            status,
            ErrorCode.RATE_LIMITED.value if code == "http_error" else code,
            detail,
            _seconds(retry_after),
        )
    return AdminError(status, code, detail)


def _seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the delay form; an HTTP date or garbage gives ``None``)."""
    try:
        seconds = float(value or "")
    except ValueError:
        return None
    return seconds if 0 <= seconds < 365 * 86400 else None
