"""Parley's wire protocol: MessagePack frames, codec, errors, positions, backoff.

Pure code: no I/O, no asyncio, no database. Both the server and the SDK use it.
"""

from parley.proto.backoff import Backoff
from parley.proto.codec import DEFAULT_MAX_FRAME, MAX_DEPTH, ClientDecoder, ServerDecoder, encode
from parley.proto.content import validate_body
from parley.proto.errors import Action, CloseCode, ErrorCode, FrameError, ProtocolError, action_for
from parley.proto.frames import PROTOCOL_VERSION, SUPPORTED_VERSIONS
from parley.proto.positions import StreamTracker, Verdict

__all__ = [
    "DEFAULT_MAX_FRAME",
    "MAX_DEPTH",
    "PROTOCOL_VERSION",
    "SUPPORTED_VERSIONS",
    "Action",
    "Backoff",
    "ClientDecoder",
    "CloseCode",
    "ErrorCode",
    "FrameError",
    "ProtocolError",
    "ServerDecoder",
    "StreamTracker",
    "Verdict",
    "action_for",
    "encode",
    "validate_body",
]
