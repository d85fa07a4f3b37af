"""Who is calling the console API: the session cookie, the CSRF check and the role check.

* **Session.** The cookie :data:`SESSION_COOKIE` holds a random secret (``HttpOnly``: page
  scripts never see it; ``SameSite=Strict``: the browser sends it only with requests made
  from the console's own site; ``Secure`` when served over HTTPS; ``Path=/console``). The
  store keeps its SHA-256 and the session's expiry (``console_session_ttl``).
* **CSRF.** Every state-changing request (any method but GET/HEAD) must carry the session's
  CSRF token in the ``X-CSRF-Token`` header: a synchronizer token, stored with the session
  on the server and handed to the page in the login and ``/me`` replies, compared in constant
  time. SameSite=Strict alone already keeps other sites' requests cookie-less in current
  browsers; the token also covers a sibling subdomain (same *site*, so SameSite lets its
  requests through) and browsers without SameSite, and a custom header cannot be sent
  cross-origin without a CORS preflight that this server never grants. Login has no session
  yet: it must be JSON (``Content-Type: application/json``, which a cross-site form cannot
  send without a preflight) and, when the browser names an ``Origin``, that origin must be
  this server's own.
* **Roles.** :func:`console_endpoint` refuses a session without one of the route's roles
  with ``403 forbidden`` (problem+json): the page hides what a role may not use, the server
  enforces it.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from parley.proto.errors import ErrorCode
from parley.server.admin.guard import KeyRateLimiter, RateLimited
from parley.server.admin.problems import problem, problem_for
from parley.server.console_port import ConsoleSession, ConsoleUser
from parley.server.errors import ServerError, ServiceError
from parley.server.services import Services

__all__ = [
    "CSRF_HEADER",
    "Caller",
    "ConsoleHandler",
    "Endpoint",
    "SESSION_COOKIE",
    "check_login_rate",
    "console_endpoint",
    "current",
    "problem_with_field",
    "read_json_body",
    "same_origin",
]

SESSION_COOKIE = "parley_console"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class Caller:
    """The logged-in console user making a request, and their session."""

    session: ConsoleSession
    user: ConsoleUser

    @property
    def actor(self) -> str:
        """How the audit log names them."""
        return f"console:{self.user.username}"


async def current(request: Request) -> Caller | None:
    """The caller of a live session, from the cookie; None without one (or expired, logged out)."""
    services: Services = request.app.state.services
    found = await services.console.session(request.cookies.get(SESSION_COOKIE, ""))
    return Caller(*found) if found else None


def same_origin(request: Request) -> bool:
    """True unless the browser named an ``Origin`` other than this server's own (its ``Host``).

    A ``Host`` without a port (a proxy that forwards nginx's ``$host``) is compared with the
    origin's host name alone: ports do not separate cookies either.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser's cross-origin request (curl, the CLI, tests)
    parts = urlsplit(origin)
    host = request.headers.get("host", "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return False
    has_port = host.rsplit("]", 1)[-1].count(":") == 1
    return parts.netloc.lower() == host if has_port else (parts.hostname or "") == host.strip("[]")


ConsoleHandler = Callable[[Request, Services, Caller], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def problem_with_field(exc: ServerError) -> Response:
    """The problem for ``exc``, with a ``field`` member when it is about one input (the page shows
    the detail next to that field)."""
    response = problem_for(exc)
    field = getattr(exc, "field", None)
    if field:
        body = json.loads(bytes(response.body))
        body["field"] = field
        response = JSONResponse(body, response.status_code, media_type="application/problem+json")
    return response


def console_endpoint(handler: ConsoleHandler, roles: Collection[str] = ()) -> Endpoint:
    """``handler`` behind a live session (else 401), the CSRF token on state-changing methods (else
    403) and, if ``roles`` is given, one of them (else 403); errors become problem+json."""

    async def endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        try:
            caller = await current(request)
            if caller is None:
                return problem(ErrorCode.NOT_AUTHENTICATED, "log in to the console (the session ended)")
            if request.method not in SAFE_METHODS:
                given = request.headers.get(CSRF_HEADER, "")
                if not (
                    same_origin(request) and hmac.compare_digest(given.encode(), caller.session.csrf.encode())
                ):
                    return problem(ErrorCode.FORBIDDEN, "missing or wrong CSRF token (X-CSRF-Token)")
            if roles and not set(roles) & set(caller.user.roles):
                return problem(ErrorCode.FORBIDDEN, f"this needs the role {' or '.join(sorted(roles))}")
            response = await handler(request, services, caller)
        except RateLimited as exc:
            response = problem_for(exc)
            response.headers["retry-after"] = str(exc.retry_after)
        except ServerError as exc:  # refused or unavailable; anything else is a 500
            response = problem_with_field(exc)
        response.headers["cache-control"] = "no-store"
        return response

    endpoint.roles = tuple(roles)  # type: ignore[attr-defined]  # read by the route table test
    return endpoint


def check_login_rate(limiter: KeyRateLimiter, request: Request, app: str, username: str) -> None:
    """Spend one login attempt of the client address and one of the account (429 past either)."""
    client = request.client.host if request.client else "?"
    limiter.check(f"addr:{client}")
    limiter.check(f"user:{app}/{username}")


async def read_json_body(request: Request, limit: int) -> bytes:
    """The request body, at most ``limit`` bytes (413 ``body_too_large`` past it, while it streams)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ServiceError(ErrorCode.BODY_TOO_LARGE, f"the request body exceeds {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ServiceError(ErrorCode.BODY_TOO_LARGE, f"the request body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
