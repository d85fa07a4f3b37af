"""The error services raise; the gateway turns it into an ``error`` frame, the
admin API into an ``application/problem+json`` response."""

from __future__ import annotations

from parley.proto.errors import ErrorCode

__all__ = ["ServiceError"]


class ServiceError(Exception):
    """A request was refused. ``code`` is stable and documented in PROTOCOL.md."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
