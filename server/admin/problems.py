"""Errors as RFC 9457 ``application/problem+json``; which code and status is ``server/errors.py``'s."""

from __future__ import annotations

from starlette.responses import JSONResponse

from parley.proto.errors import ErrorCode
from parley.server.errors import http_status, refusal

__all__ = ["problem", "problem_for"]


def problem(code: ErrorCode, detail: str, status: int | None = None) -> JSONResponse:
    """A problem response for ``code`` (its status from ``server/errors.py`` unless given)."""
    status = status or http_status(code)
    body = {
        "type": f"https://parley.dev/problems/{code.value}",
        "title": code.value.replace("_", " "),
        "status": status,
        "detail": detail,
        "code": code.value,
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def problem_for(exc: BaseException) -> JSONResponse:
    """The problem response for any exception, mapped by :func:`parley.server.errors.refusal`."""
    refused = refusal(exc)
    return problem(refused.code, refused.message, refused.status)
