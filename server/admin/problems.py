"""Errors as RFC 9457 ``application/problem+json``."""

from __future__ import annotations

from starlette.responses import JSONResponse

from parley.proto.errors import ErrorCode

__all__ = ["STATUS", "problem"]

STATUS: dict[ErrorCode, int] = {
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
}


def problem(code: ErrorCode, detail: str, status: int | None = None) -> JSONResponse:
    status = status or STATUS.get(code, 400)
    body = {
        "type": f"https://parley.dev/problems/{code.value}",
        "title": code.value.replace("_", " "),
        "status": status,
        "detail": detail,
        "code": code.value,
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json")
