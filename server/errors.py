"""The server's exceptions, and the one place that turns them into error codes.

The tree (what raises it → what the client sees)::

    Exception
     └── ServerError                  every failure the server means to report
          ├── ServiceError(code, msg) a request was refused by a rule; ``code`` says which
          │    ├── admin.guard.BodyTooLarge   an admin request body over its limit (413)
          │    └── admin.guard.RateLimited    an API key over its rate (429, ``retry-after``)
          └── Unavailable             a dependency failed; the same request may succeed later
               ├── StoreUnavailable   the store cannot be reached or timed out (adapters raise it)
               └── BrokerUnavailable  the broker cannot be reached (adapters raise it)

Anything else is a bug: it becomes ``internal`` (logged by the edge, never shown).

Services raise; only the edges catch, and they map through :func:`refusal` — the
gateway into an ``error`` frame (``gateway/router.py`` :func:`error_frame`), the
admin API into an ``application/problem+json`` response (``admin/problems.py``).
Whether the client retries, reconnects or gives up is ``proto/errors.py``'s table,
read by the server and the SDK alike.
"""

from __future__ import annotations

from typing import NamedTuple

from parley.proto.errors import ErrorCode

__all__ = [
    "BrokerUnavailable",
    "Refusal",
    "ServerError",
    "ServiceError",
    "StoreUnavailable",
    "Unavailable",
    "http_status",
    "refusal",
]


class ServerError(Exception):
    """The root of every failure the server reports on purpose (see the module's tree)."""


class ServiceError(ServerError):
    """A request was refused. ``code`` is stable and documented in PROTOCOL.md."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message


class Unavailable(ServerError):
    """A dependency (store, broker) failed; the request may be retried. Its text is for logs."""


class StoreUnavailable(Unavailable):
    """The store cannot be reached or timed out; the operation may be retried."""


class BrokerUnavailable(Unavailable):
    """The broker cannot be reached."""


#: The HTTP status of each error code on the admin API (``400`` for any code not listed).
_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_REQUEST: 422,
    ErrorCode.INVALID_FRAME: 422,
    ErrorCode.BAD_FRAME: 400,
    ErrorCode.FRAME_TOO_LARGE: 413,
    ErrorCode.BODY_TOO_LARGE: 413,
    ErrorCode.NOT_AUTHENTICATED: 401,
    ErrorCode.TOKEN_INVALID: 401,
    ErrorCode.TOKEN_EXPIRED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.OUT_OF_RANGE: 416,
    ErrorCode.LIMIT_EXCEEDED: 422,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.INTERNAL: 500,
    ErrorCode.BLOCKED: 403,
    ErrorCode.USER_DISABLED: 403,
    ErrorCode.TOKEN_REVOKED: 401,
    ErrorCode.MUTED: 403,
    ErrorCode.CONTENT_REFUSED: 422,
    ErrorCode.SEGMENT_INVALID: 422,
    ErrorCode.SEGMENT_CYCLE: 409,
    ErrorCode.SEGMENT_NOT_FOUND: 404,
    ErrorCode.TEMPLATE_INVALID: 422,
    ErrorCode.TEMPLATE_VARIABLE_UNKNOWN: 422,
    ErrorCode.TEMPLATE_VALUE_MISSING: 422,
    ErrorCode.POLICY_INVALID: 422,
    ErrorCode.CAMPAIGN_INVALID: 422,
    ErrorCode.CAMPAIGN_NOT_FOUND: 404,
    ErrorCode.CAMPAIGN_STATE: 409,
    ErrorCode.LINK_INVALID: 404,
    ErrorCode.EVENT_UNKNOWN: 422,
    ErrorCode.EVENT_INVALID: 422,
    ErrorCode.BATCH_TOO_LARGE: 413,
    ErrorCode.EVENT_TOO_OLD: 422,
    ErrorCode.EVENT_IN_FUTURE: 422,
    ErrorCode.SCHEMA_INVALID: 422,
    ErrorCode.ATTRIBUTE_UNKNOWN: 422,
    ErrorCode.ATTRIBUTE_TYPE: 422,
    ErrorCode.CONSENT_INVALID: 422,
    ErrorCode.IDENTIFIER_INVALID: 422,
    ErrorCode.MERGE_GUARD: 409,
    ErrorCode.IDENTIFIER_ERASED: 409,
    ErrorCode.PROFILE_NOT_FOUND: 404,
    ErrorCode.JOURNEY_INVALID: 422,
    ErrorCode.JOURNEY_CYCLE: 422,
    ErrorCode.JOURNEY_UNREACHABLE: 422,
    ErrorCode.JOURNEY_NOT_FOUND: 404,
    ErrorCode.JOURNEY_STATE: 409,
    ErrorCode.TAG_DEFINITION_INVALID: 422,
    ErrorCode.TAG_DEFINITION_NOT_FOUND: 404,
    ErrorCode.TAG_DEFINITION_EXISTS: 409,
    ErrorCode.TAG_UNDEFINED: 422,
    ErrorCode.ENCODING_INVALID: 422,
    ErrorCode.LEASE_INVALID: 422,
    ErrorCode.LEASE_NOT_FOUND: 404,
    ErrorCode.LEASE_NOT_HELD: 409,
}


def http_status(code: ErrorCode) -> int:
    """The HTTP status an admin API problem with ``code`` carries."""
    return _STATUS.get(code, 400)


class Refusal(NamedTuple):
    """What the client is told about a failure: its code, a message safe to show, an HTTP status."""

    code: ErrorCode
    message: str
    status: int


_UNAVAILABLE = {
    StoreUnavailable: "the store is unavailable; retry",
    BrokerUnavailable: "the broker is unavailable; retry",
}


def refusal(exc: BaseException) -> Refusal:
    """Map any exception to what the client sees. Only a :class:`ServiceError`'s own text is shown;
    the text of anything else may hold internals (paths, hosts) and stays in the logs."""
    if isinstance(exc, ServiceError):
        return Refusal(exc.code, exc.message, http_status(exc.code))
    if isinstance(exc, Unavailable):
        message = _UNAVAILABLE.get(type(exc), "a dependency is unavailable; retry")
        return Refusal(ErrorCode.UNAVAILABLE, message, http_status(ErrorCode.UNAVAILABLE))
    return Refusal(ErrorCode.INTERNAL, "internal error; retry", http_status(ErrorCode.INTERNAL))
