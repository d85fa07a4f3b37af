"""Encode frames to MessagePack and decode bytes to typed frames.

Decoding is total: for any input it returns a frame or raises
:class:`~parley.proto.errors.FrameError` with a stable code — never any other
exception. Encoding produces plain MessagePack maps that the reference
``msgpack`` package decodes.

Free-form values (message bodies, conversation ``meta``) must be plain data
that every store and every SDK language can hold: maps with string keys,
arrays, strings, booleans, nil, floats and 64-bit signed integers, nested at
most :data:`MAX_DEPTH` deep (:mod:`parley.proto.plain`, the same rule the admin
API applies). Extension types (including the MessagePack timestamp), binary,
non-string keys and wider integers are refused with ``invalid_frame`` —
otherwise they would decode here and fail later in a store, where the error
would look temporary and be retried forever. Frames from clients also follow
the key rules (no NUL, no leading ``$``, no ``.``); frames from the server are
not held to them, so data stored before those rules stays readable.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

from parley.proto.errors import ErrorCode, FrameError
from parley.proto.frames import ClientFrame, ServerFrame
from parley.proto.plain import MAX_DEPTH, problem

__all__ = ["DEFAULT_MAX_FRAME", "MAX_DEPTH", "ClientDecoder", "ServerDecoder", "encode", "peek_type"]

#: Default largest frame accepted, in bytes.
DEFAULT_MAX_FRAME = 64 * 1024
_encoder = msgspec.msgpack.Encoder()
_untyped = msgspec.msgpack.Decoder()
_structure = msgspec.msgpack.Decoder(msgspec.Raw)

T = TypeVar("T")


def encode(frame: msgspec.Struct) -> bytes:
    """Encode one frame. Encode once and reuse the bytes for every recipient."""
    return _encoder.encode(frame)


class _Decoder(Generic[T]):
    def __init__(self, frame_type: object, max_frame: int = DEFAULT_MAX_FRAME, *, keys: bool = True) -> None:
        self._decoder: msgspec.msgpack.Decoder[T] = msgspec.msgpack.Decoder(frame_type)  # type: ignore[arg-type]
        self.max_frame = max_frame
        #: Whether free-form map keys must follow the key rules (frames from clients).
        self._keys = keys

    def decode(self, data: bytes) -> T:
        """Decode one frame or raise :class:`FrameError`."""
        if len(data) > self.max_frame:
            raise FrameError(
                ErrorCode.FRAME_TOO_LARGE,
                f"frame of {len(data)} bytes exceeds the limit of {self.max_frame}",
            )
        try:
            frame = self._decoder.decode(data)
        except msgspec.ValidationError as exc:
            error = _classify(str(exc), data)
            error.request_id = _request_id(data)
            raise error from None
        except msgspec.DecodeError as exc:
            if "map keys must be hashable" in str(exc):
                raise FrameError(ErrorCode.INVALID_FRAME, "map keys must be strings") from None
            raise FrameError(ErrorCode.BAD_FRAME, f"malformed MessagePack: {exc}") from None
        except RecursionError:
            raise FrameError(ErrorCode.INVALID_FRAME, "frame nested too deeply") from None
        except UnicodeDecodeError:
            raise FrameError(ErrorCode.BAD_FRAME, "malformed MessagePack: invalid UTF-8 string") from None
        except Exception as exc:
            raise FrameError(ErrorCode.BAD_FRAME, f"undecodable frame: {exc!r}") from None
        why = problem(frame, keys=self._keys)
        if why:
            error = FrameError(ErrorCode.INVALID_FRAME, why)
            error.request_id = getattr(frame, "id", None)  # answers its request, like a schema error
            raise error
        return frame


def peek_type(data: bytes) -> str:
    """The ``t`` of an encoded frame without decoding it (cheap; for metrics and routing).

    Frames from :func:`encode` start with a fixmap header, the key ``"t"`` and
    the type as a fixstr; anything else is decoded the slow way.
    """
    if len(data) > 4 and data[0] & 0xF0 == 0x80 and data[1:3] == b"\xa1t" and data[3] & 0xE0 == 0xA0:
        end = 4 + (data[3] & 0x1F)
        return data[4:end].decode("ascii", "replace")
    try:
        raw = msgspec.msgpack.decode(data)
    except Exception:
        return "?"
    t = raw.get("t") if isinstance(raw, dict) else None
    return t if isinstance(t, str) else "?"


def _request_id(data: bytes) -> int | None:
    """The ``id`` of a well-formed map that failed validation, so the error can answer its request."""
    try:
        raw = msgspec.msgpack.decode(data)
    except Exception:
        return None
    request_id = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(request_id, int) and not isinstance(request_id, bool) and 0 <= request_id <= 2**53:
        return request_id
    return None


def _malformed(data: bytes) -> bool:
    """Whether ``data`` is not one well-formed MessagePack value (checked on the error path only).

    Typed decoding reports a schema problem as soon as it meets one, before it
    has seen trailing bytes or a truncated tail; those must still be ``bad_frame``.
    """
    try:
        _structure.decode(data)  # framing only: lengths, opcodes, trailing bytes
        _untyped.decode(data)  # and UTF-8 of every string
    except msgspec.DecodeError as exc:
        return "map keys must be hashable" not in str(exc)
    except UnicodeDecodeError:
        return True
    except Exception:
        return False
    return False


def _classify(detail: str, data: bytes) -> FrameError:
    if _malformed(data):
        return FrameError(ErrorCode.BAD_FRAME, "malformed MessagePack (truncated, trailing bytes or invalid)")
    if detail.endswith("at `$.t`") or "missing required field `t`" in detail:
        return FrameError(ErrorCode.UNKNOWN_FRAME, f"unknown or missing frame type ({detail})")
    if detail.startswith("Expected `object`") and "at `$" not in detail:
        return FrameError(ErrorCode.BAD_FRAME, "a frame must be a MessagePack map")
    return FrameError(ErrorCode.INVALID_FRAME, detail)


class ClientDecoder(_Decoder[ClientFrame]):
    """Decodes frames a client sends (used by the server)."""

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        super().__init__(ClientFrame, max_frame)


class ServerDecoder(_Decoder[ServerFrame]):
    """Decodes frames a server sends (used by clients)."""

    def __init__(self, max_frame: int = 16 * 1024 * 1024) -> None:
        super().__init__(ServerFrame, max_frame, keys=False)
