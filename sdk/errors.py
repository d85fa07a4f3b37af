"""Exceptions raised by the Parley SDK.

Exception tree::

    ParleyError                 base of everything the SDK raises on purpose
    ├── ReplyError              the server refused a request (.code, .message, .action)
    ├── ConnectionClosed        the connection is gone and the request cannot complete
    │   └── ClientClosed        ``close()`` was called, or a fatal close ended the client
    ├── RequestTimeout          no reply within the request timeout (or send deadline)
    ├── EventQueueOverflow      a bounded ``events()`` consumer fell behind and lost events
    └── AdminError              the HTTP admin API answered with a problem document

What to do next: a :class:`ReplyError` with ``temporary`` true may succeed if
retried later (``send`` already retries those itself); ``fatal`` ones never
will. After :class:`ConnectionClosed` the client reconnects by itself unless it
is a :class:`ClientClosed`; retry the request once the client is connected.
"""

from __future__ import annotations

from parley.proto.errors import Action, action_for

__all__ = [
    "AdminError",
    "ClientClosed",
    "ConnectionClosed",
    "EventQueueOverflow",
    "ParleyError",
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
