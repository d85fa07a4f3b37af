"""Error codes, close codes and what a client must do about each.

This table is the single source of truth: the server picks codes from it and
the SDK decides from it whether to retry a request, reconnect, or give up.

Exception tree::

    ProtocolError            a frame could not be accepted (has .code, .message)
    └── FrameError           bytes did not decode to a valid frame
"""

from __future__ import annotations

import enum

__all__ = [
    "Action",
    "CloseCode",
    "ErrorCode",
    "FrameError",
    "ProtocolError",
    "action_for",
]


class Action(str, enum.Enum):
    """What the client should do after an error."""

    #: Temporary: retry the same request later (with backoff); it may succeed.
    RETRY = "retry"
    #: The connection is unusable: reconnect (refreshing the token first for
    #: ``token_expired``) and resume from the last positions.
    RECONNECT = "reconnect"
    #: The request is wrong or not allowed; retrying it unchanged never helps.
    FATAL = "fatal"


class ErrorCode(str, enum.Enum):
    """Stable, machine-readable error codes carried by ``error`` frames."""

    BAD_FRAME = "bad_frame"
    UNKNOWN_FRAME = "unknown_frame"
    INVALID_FRAME = "invalid_frame"
    FRAME_TOO_LARGE = "frame_too_large"
    UNSUPPORTED_VERSION = "unsupported_version"
    NOT_AUTHENTICATED = "not_authenticated"
    ALREADY_AUTHENTICATED = "already_authenticated"
    TOKEN_INVALID = "token_invalid"
    TOKEN_EXPIRED = "token_expired"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    INVALID_REQUEST = "invalid_request"
    OUT_OF_RANGE = "out_of_range"
    LIMIT_EXCEEDED = "limit_exceeded"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"
    #: A block between the two users forbids it (direct message, adding to a conversation).
    BLOCKED = "blocked"
    #: The app disabled (banned) this user; followed by close 4010.
    USER_DISABLED = "user_disabled"
    #: The app revoked the tokens issued before a time; get a new token. Close 4011.
    TOKEN_REVOKED = "token_revoked"
    #: The app muted this member in the conversation for a while.
    MUTED = "muted"
    #: An admin API request body over its limit (HTTP 413).
    BODY_TOO_LARGE = "body_too_large"
    #: The text contains a word of one of the app's ``refuse`` word lists.
    CONTENT_REFUSED = "content_refused"
    #: A segment rule was refused (unknown attribute, wrong operator or value for its type, bad window,
    #: nesting too deep); the problem's ``path`` points at the clause.
    SEGMENT_INVALID = "segment_invalid"
    #: Saving the segment would make nested segments refer to themselves in a cycle.
    SEGMENT_CYCLE = "segment_cycle"
    #: No saved segment with that id in the app.
    SEGMENT_NOT_FOUND = "segment_not_found"
    #: A marketing template is malformed (placeholders, buttons, languages).
    TEMPLATE_INVALID = "template_invalid"
    #: A marketing template names a variable the app does not know.
    TEMPLATE_VARIABLE_UNKNOWN = "template_variable_unknown"
    #: A template placeholder without a fallback has no value for this recipient.
    TEMPLATE_VALUE_MISSING = "template_value_missing"
    #: A send-policy setting is invalid (a cap rule of zero, quiet hours, percentages).
    POLICY_INVALID = "policy_invalid"
    #: A campaign definition cannot be sent as written (audience, split, schedule, pacing).
    CAMPAIGN_INVALID = "campaign_invalid"
    #: No campaign with that id in the app.
    CAMPAIGN_NOT_FOUND = "campaign_not_found"
    #: The campaign's state does not allow that (e.g. resuming a cancelled campaign).
    CAMPAIGN_STATE = "campaign_state"
    #: A tracked link (``/r/<token>``) is malformed, its signature does not match, or its app is gone.
    LINK_INVALID = "link_invalid"
    #: A tracked event's name is not declared in the app's audience schema.
    EVENT_UNKNOWN = "event_unknown"
    #: A tracked event's properties do not fit its declared types or bounds; ``path`` names the property.
    EVENT_INVALID = "event_invalid"
    #: An event batch with more events than ``event_batch_max``.
    BATCH_TOO_LARGE = "batch_too_large"
    #: An event older than ``event_max_age`` (or than the app's retention).
    EVENT_TOO_OLD = "event_too_old"
    #: An event time further in the future than ``event_clock_skew``.
    EVENT_IN_FUTURE = "event_in_future"
    #: The app's audience schema document was refused (the message names the first fault).
    SCHEMA_INVALID = "schema_invalid"
    #: A profile attribute the app's schema does not declare.
    ATTRIBUTE_UNKNOWN = "attribute_unknown"
    #: A profile attribute value that does not fit its declared type (or its size limit).
    ATTRIBUTE_TYPE = "attribute_type"
    #: A consent topic the app's schema does not declare, or a state other than granted/denied/withdrawn.
    CONSENT_INVALID = "consent_invalid"
    #: A malformed identifier: unknown kind, a phone number or email address that does not parse.
    IDENTIFIER_INVALID = "identifier_invalid"
    #: The identify would merge more profiles than the app's merge guard allows (nothing merged).
    MERGE_GUARD = "merge_guard"
    #: No audience profile (or merge record) with that id in the app.
    PROFILE_NOT_FOUND = "profile_not_found"
    #: An identifier of a person who was erased (its hashed tombstone matches): refused, so that a
    #: late event or identify never re-creates them; the app lifts it explicitly if they come back.
    IDENTIFIER_ERASED = "identifier_erased"
    #: A journey definition is malformed (steps, waits, entry rule, trigger).
    JOURNEY_INVALID = "journey_invalid"
    #: A journey's steps form a cycle (each step runs at most once per run).
    JOURNEY_CYCLE = "journey_cycle"
    #: A journey has a step no path from the first step reaches.
    JOURNEY_UNREACHABLE = "journey_unreachable"
    #: No journey with that id in the app.
    JOURNEY_NOT_FOUND = "journey_not_found"
    #: The journey's state does not allow that (e.g. a new version of an archived journey).
    JOURNEY_STATE = "journey_state"
    #: A tag definition is malformed (name, kind, sources, expiry).
    TAG_DEFINITION_INVALID = "tag_definition_invalid"
    #: No tag definition of that name in the app.
    TAG_DEFINITION_NOT_FOUND = "tag_definition_not_found"
    #: A tag of that name is already defined in the app.
    TAG_DEFINITION_EXISTS = "tag_definition_exists"
    #: A person (source manual or agent) set a tag the app's definitions do not allow.
    TAG_UNDEFINED = "tag_undefined"
    #: An uploaded file is not valid UTF-8 text (a knowledge file saved in another encoding).
    ENCODING_INVALID = "encoding_invalid"
    #: A lease request is malformed (name, holder, ttl).
    LEASE_INVALID = "lease_invalid"
    #: No lease of that name in the app.
    LEASE_NOT_FOUND = "lease_not_found"
    #: The lease is not held by that holder (nothing released).
    LEASE_NOT_HELD = "lease_not_held"


_ACTIONS: dict[ErrorCode, Action] = {
    ErrorCode.BAD_FRAME: Action.FATAL,
    ErrorCode.UNKNOWN_FRAME: Action.FATAL,
    ErrorCode.INVALID_FRAME: Action.FATAL,
    ErrorCode.FRAME_TOO_LARGE: Action.FATAL,
    ErrorCode.UNSUPPORTED_VERSION: Action.FATAL,
    ErrorCode.NOT_AUTHENTICATED: Action.FATAL,
    ErrorCode.ALREADY_AUTHENTICATED: Action.FATAL,
    ErrorCode.TOKEN_INVALID: Action.FATAL,
    ErrorCode.TOKEN_EXPIRED: Action.RECONNECT,
    ErrorCode.FORBIDDEN: Action.FATAL,
    ErrorCode.NOT_FOUND: Action.FATAL,
    ErrorCode.INVALID_REQUEST: Action.FATAL,
    ErrorCode.OUT_OF_RANGE: Action.FATAL,
    ErrorCode.LIMIT_EXCEEDED: Action.FATAL,
    ErrorCode.RATE_LIMITED: Action.RETRY,
    ErrorCode.UNAVAILABLE: Action.RETRY,
    ErrorCode.INTERNAL: Action.RETRY,
    ErrorCode.BLOCKED: Action.FATAL,
    ErrorCode.USER_DISABLED: Action.FATAL,
    ErrorCode.TOKEN_REVOKED: Action.RECONNECT,
    ErrorCode.MUTED: Action.FATAL,
    ErrorCode.BODY_TOO_LARGE: Action.FATAL,
    ErrorCode.CONTENT_REFUSED: Action.FATAL,
    ErrorCode.SEGMENT_INVALID: Action.FATAL,
    ErrorCode.SEGMENT_CYCLE: Action.FATAL,
    ErrorCode.SEGMENT_NOT_FOUND: Action.FATAL,
    ErrorCode.TEMPLATE_INVALID: Action.FATAL,
    ErrorCode.TEMPLATE_VARIABLE_UNKNOWN: Action.FATAL,
    ErrorCode.TEMPLATE_VALUE_MISSING: Action.FATAL,
    ErrorCode.POLICY_INVALID: Action.FATAL,
    ErrorCode.CAMPAIGN_INVALID: Action.FATAL,
    ErrorCode.CAMPAIGN_NOT_FOUND: Action.FATAL,
    ErrorCode.CAMPAIGN_STATE: Action.FATAL,
    ErrorCode.LINK_INVALID: Action.FATAL,
    ErrorCode.EVENT_UNKNOWN: Action.FATAL,
    ErrorCode.EVENT_INVALID: Action.FATAL,
    ErrorCode.BATCH_TOO_LARGE: Action.FATAL,
    ErrorCode.EVENT_TOO_OLD: Action.FATAL,
    ErrorCode.EVENT_IN_FUTURE: Action.FATAL,
    ErrorCode.SCHEMA_INVALID: Action.FATAL,
    ErrorCode.ATTRIBUTE_UNKNOWN: Action.FATAL,
    ErrorCode.ATTRIBUTE_TYPE: Action.FATAL,
    ErrorCode.CONSENT_INVALID: Action.FATAL,
    ErrorCode.IDENTIFIER_INVALID: Action.FATAL,
    ErrorCode.MERGE_GUARD: Action.FATAL,
    ErrorCode.PROFILE_NOT_FOUND: Action.FATAL,
    ErrorCode.IDENTIFIER_ERASED: Action.FATAL,
    ErrorCode.JOURNEY_INVALID: Action.FATAL,
    ErrorCode.JOURNEY_CYCLE: Action.FATAL,
    ErrorCode.JOURNEY_UNREACHABLE: Action.FATAL,
    ErrorCode.JOURNEY_NOT_FOUND: Action.FATAL,
    ErrorCode.JOURNEY_STATE: Action.FATAL,
    ErrorCode.TAG_DEFINITION_INVALID: Action.FATAL,
    ErrorCode.TAG_DEFINITION_NOT_FOUND: Action.FATAL,
    ErrorCode.TAG_DEFINITION_EXISTS: Action.FATAL,
    ErrorCode.TAG_UNDEFINED: Action.FATAL,
    ErrorCode.ENCODING_INVALID: Action.FATAL,
    ErrorCode.LEASE_INVALID: Action.FATAL,
    ErrorCode.LEASE_NOT_FOUND: Action.FATAL,
    ErrorCode.LEASE_NOT_HELD: Action.FATAL,
}


def action_for(code: str) -> Action:
    """Return what a client should do for ``code``; unknown codes are fatal."""
    try:
        return _ACTIONS[ErrorCode(code)]
    except ValueError:
        return Action.FATAL


class CloseCode(enum.IntEnum):
    """WebSocket close codes the server uses, and whether to reconnect."""

    NORMAL = 1000
    #: The node is shutting down: reconnect (to another node) and resume.
    SERVICE_RESTART = 1012
    PROTOCOL_ERROR = 4000
    AUTH_FAILED = 4001
    UNSUPPORTED_VERSION = 4002
    AUTH_TIMEOUT = 4003
    TOKEN_EXPIRED = 4004
    #: The client did not read fast enough; its queue overflowed. Reconnect and resume.
    SLOW_CONSUMER = 4008
    IDLE_TIMEOUT = 4009
    #: The app disabled (banned) the user. Final: tokens are refused until the app re-enables them.
    USER_DISABLED = 4010
    #: The app revoked the user's tokens: get a new token, then reconnect.
    TOKEN_REVOKED = 4011
    TOO_MANY_CONNECTIONS = 4029

    @property
    def reconnect(self) -> bool:
        """Whether an SDK should reconnect automatically after this close."""
        return self not in _NO_RECONNECT


# A user at the connection limit would only be refused again; the app decides.
_NO_RECONNECT = frozenset(
    {
        CloseCode.NORMAL,
        CloseCode.AUTH_FAILED,
        CloseCode.UNSUPPORTED_VERSION,
        CloseCode.TOO_MANY_CONNECTIONS,
        CloseCode.USER_DISABLED,
    }
)


class ProtocolError(Exception):
    """A frame was refused. ``code`` is an :class:`ErrorCode` value."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message


class FrameError(ProtocolError):
    """Bytes that do not decode to a valid frame (malformed, unknown, too large).

    ``request_id`` is the frame's ``id`` when the bytes were a well-formed map
    carrying an integer ``id``, so the error can answer that request.
    """

    def __init__(self, code: ErrorCode, message: str, request_id: int | None = None) -> None:
        super().__init__(code, message)
        self.request_id = request_id
