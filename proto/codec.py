"""Encode frames to MessagePack and decode bytes to typed frames.

Decoding is total: for any input it returns a frame or raises
:class:`~parley.proto.errors.FrameError` with a stable code — never any other
exception. Encoding produces plain MessagePack maps that the reference
``msgpack`` package decodes.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

from parley.proto.errors import ErrorCode, FrameError
from parley.proto.frames import ClientFrame, ServerFrame

__all__ = ["DEFAULT_MAX_FRAME", "ClientDecoder", "ServerDecoder", "encode"]

#: Default largest frame accepted, in bytes.
DEFAULT_MAX_FRAME = 64 * 1024

_encoder = msgspec.msgpack.Encoder()

T = TypeVar("T")


def encode(frame: msgspec.Struct) -> bytes:
    """Encode one frame. Encode once and reuse the bytes for every recipient."""
    return _encoder.encode(frame)


class _Decoder(Generic[T]):
    def __init__(self, frame_type: object, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self._decoder: msgspec.msgpack.Decoder[T] = msgspec.msgpack.Decoder(frame_type)  # type: ignore[arg-type]
        self.max_frame = max_frame

    def decode(self, data: bytes) -> T:
        """Decode one frame or raise :class:`FrameError`."""
        if len(data) > self.max_frame:
            raise FrameError(
                ErrorCode.FRAME_TOO_LARGE,
                f"frame of {len(data)} bytes exceeds the limit of {self.max_frame}",
            )
        try:
            return self._decoder.decode(data)
        except msgspec.ValidationError as exc:
            raise _classify(str(exc)) from None
        except msgspec.DecodeError as exc:
            raise FrameError(ErrorCode.BAD_FRAME, f"malformed MessagePack: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - the codec must be total
            raise FrameError(ErrorCode.BAD_FRAME, f"undecodable frame: {exc!r}") from None


def _classify(detail: str) -> FrameError:
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
        super().__init__(ServerFrame, max_frame)
