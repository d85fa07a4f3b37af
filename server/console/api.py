"""``/console/api/...``: the console's JSON API (every route role-checked on the server).

Thin handlers: decode the body (msgspec), call ``Services.console`` / ``Services.support``,
encode. Errors are problem+json; an invalid input names its ``field`` so the page shows the
message next to it. Who may call what is :data:`ROLES_OF`'s table, which the docs repeat.
"""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parley.proto.errors import ErrorCode
from parley.proto.ids import is_user_id
from parley.server.admin.guard import KeyRateLimiter
from parley.server.admin.routes import json_response
from parley.server.audience_models import USER_KIND, Identifier
from parley.server.console.session import (
    SESSION_COOKIE,
    Caller,
    ConsoleHandler,
    Endpoint,
    check_login_rate,
    console_endpoint,
    problem_with_field,
    read_json_body,
    same_origin,
)
from parley.server.console_port import ConsoleRole
from parley.server.errors import ServerError, ServiceError
from parley.server.services import Services
from parley.server.services.console import FieldError, LoggedIn
from parley.server.settings import Settings

__all__ = ["body_of", "console_api_routes"]

T = TypeVar("T")
MAX_BODY = 64 * 1024
EVENTS_SCANNED, EVENTS_SHOWN = 200, 10
ADMIN, MARKETER, AGENT = ConsoleRole.ADMIN.value, ConsoleRole.MARKETER.value, ConsoleRole.AGENT.value


class Login(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /console/api/login``."""

    app: str = msgspec.field(default="")
    username: str = msgspec.field(default="")
    password: str = msgspec.field(default="")


class NewUser(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /console/api/users`` (admins)."""

    username: str
    password: str
    roles: list[str]
    name: str = ""


class Canned(msgspec.Struct, forbid_unknown_fields=True):
    """One canned reply."""

    title: str
    text: str


class CannedList(msgspec.Struct, forbid_unknown_fields=True):
    """``PUT /console/api/canned`` (admins)."""

    replies: list[Canned]


_FIELD = re.compile(r"`\$\.(\w+)")


async def body_of(request: Request, kind: type[T]) -> T:
    """Decode the JSON body (at most 64 KiB) as ``kind``; an invalid field is a ``FieldError``."""
    raw = await read_json_body(request, MAX_BODY)
    try:
        return msgspec.json.decode(raw or b"{}", type=kind)
    except msgspec.ValidationError as exc:
        found = _FIELD.search(str(exc))
        if found:
            raise FieldError(found.group(1), f"invalid body: {exc}") from None
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"invalid body: {exc}") from None
    except msgspec.DecodeError:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "the body is not valid JSON") from None


def _me(logged: LoggedIn | Caller) -> dict[str, object]:
    u, s = logged.user, logged.session
    return {
        "app": u.app,
        "username": u.username,
        "name": u.name,
        "roles": list(u.roles),
        "csrf": s.csrf,
        "expires": s.expires,
    }


# ------------------------------------------------------------------- login
def _login(settings: Settings) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        limiter: KeyRateLimiter = request.app.state.console_limiter
        try:
            if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
                raise ServiceError(ErrorCode.INVALID_REQUEST, "log in with a JSON body (application/json)")
            if not same_origin(request):
                raise ServiceError(ErrorCode.FORBIDDEN, "log in from the console's own page")
            body = await body_of(request, Login)
            for name in ("app", "username", "password"):
                if not getattr(body, name):
                    raise FieldError(name, f"{name} is required")
            check_login_rate(limiter, request, body.app, body.username)
            client = request.client.host if request.client else ""
            logged = await services.console.login(body.app, body.username, body.password, client=client)
        except ServerError as exc:
            response = problem_with_field(exc)
            retry = getattr(exc, "retry_after", None)
            if retry:
                response.headers["retry-after"] = str(retry)
            return response
        response = json_response(_me(logged))
        response.set_cookie(
            SESSION_COOKIE,
            logged.secret,
            max_age=settings.console_session_ttl,
            path="/console",
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        response.headers["cache-control"] = "no-store"
        return response

    return endpoint


def _forget(response: Response, request: Request) -> Response:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/console",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


async def logout(request: Request, s: Services, caller: Caller) -> Response:
    """``POST /console/api/logout``: end this session; 204 and the cookie cleared."""
    await s.console.logout(caller.session)
    return _forget(Response(status_code=204), request)


async def logout_everywhere(request: Request, s: Services, caller: Caller) -> Response:
    """``POST /console/api/logout-everywhere``: end every session of the caller, on every device."""
    ended = await s.console.logout_everywhere(caller.user.app, caller.user.username, actor=caller.actor)
    return _forget(json_response({"sessions": ended}), request)


async def me(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/me``: who is logged in, their roles, the CSRF token and the expiry."""
    return json_response(_me(caller))


# ------------------------------------------------------------------- agents
async def ws_token(request: Request, s: Services, caller: Caller) -> Response:
    """``POST /console/api/ws-token`` (agent): a short-lived token of the agent's chat identity."""
    token, expires = await s.console.ws_token(caller.user)
    return json_response({"token": token, "expires": expires, "user": caller.user.username, "path": "/ws"})


async def agents(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/agents`` (agent): the app's agents and who is online (to transfer to)."""
    found = await s.console.agents(caller.user.app)
    return json_response([{"user": a.user, "name": a.name, "online": a.online} for a in found])


async def customer_tickets(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/customers/{user}/tickets`` (agent): the customer's tickets, newest first."""
    customer = request.path_params["user"]
    if not is_user_id(customer):
        raise ServiceError(
            ErrorCode.INVALID_REQUEST, "the user id in the path is outside the user-id charset"
        )
    tickets = await s.console.customer_tickets(caller.user.app, customer)
    return json_response(
        [
            {"conv": t.conv, "state": t.state, "agent": t.agent, "reason": t.reason, "score": t.score,
             "created": t.created, "updated": t.updated, "origin": t.origin}
            for t in tickets
        ]
    )  # fmt: skip


async def customer_audience(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/customers/{user}/audience`` (agent): the customer's audience profile —
    consent by topic, tags with provenance, attributes — and the last events; ``{"profile": null}``
    for a user the audience never saw (nothing is created by reading)."""
    customer, app = _path_user(request), caller.user.app
    pid = await s.identity.holder(app, Identifier(USER_KIND, customer))
    if pid is None:
        return json_response({"profile": None, "events": []})
    view = await s.audience.view(app, pid)
    # oldest first in pages: the last of the first EVENTS_SCANNED are shown (a console view)
    events = await s.events.events_of_user(app, customer, limit=EVENTS_SCANNED)
    recent = [{"name": e.name, "ts": e.ts, "props": e.props} for e in events[-EVENTS_SHOWN:]][::-1]
    profile = {k: view[k] for k in ("pid", "attributes", "tags", "consent", "computed")}
    return json_response({"profile": profile, "events": recent})


def _path_user(request: Request) -> str:
    user: str = request.path_params["user"]
    if not is_user_id(user):
        raise ServiceError(
            ErrorCode.INVALID_REQUEST, "the user id in the path is outside the user-id charset"
        )
    return user


async def canned(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/canned`` (agent, admin): the app's canned replies."""
    return json_response(await s.console.canned(caller.user.app))


async def set_canned(request: Request, s: Services, caller: Caller) -> Response:
    """``PUT /console/api/canned`` (admin): replace the canned replies; audited."""
    body = await body_of(request, CannedList)
    replies = [{"title": r.title, "text": r.text} for r in body.replies]
    await s.console.set_canned(caller.user.app, replies, actor=caller.actor)
    return json_response(await s.console.canned(caller.user.app))


# ------------------------------------------------------------------- admins
async def list_users(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/users`` (admin): the app's console users (never their hashes)."""
    users = await s.console.users(caller.user.app)
    return json_response(
        [
            {"username": u.username, "name": u.name, "roles": list(u.roles), "disabled": u.disabled}
            for u in users
        ]
    )


async def add_user(request: Request, s: Services, caller: Caller) -> Response:
    """``POST /console/api/users`` (admin): create or replace a console user; 201; audited."""
    body = await body_of(request, NewUser)
    u = await s.console.add_user(
        caller.user.app, body.username, body.password, body.roles, name=body.name, actor=caller.actor
    )
    return json_response({"username": u.username, "name": u.name, "roles": list(u.roles)}, 201)


async def user_logout_everywhere(request: Request, s: Services, caller: Caller) -> Response:
    """``POST /console/api/users/{username}/logout-everywhere`` (admin): end that user's sessions."""
    ended = await s.console.logout_everywhere(
        caller.user.app, request.path_params["username"], actor=caller.actor
    )
    return json_response({"sessions": ended})


#: Route → the roles that may call it (empty: any logged-in console user).
ROLES_OF: dict[str, tuple[str, ...]] = {
    "ws-token": (AGENT,),
    "agents": (AGENT,),
    "customers": (AGENT,),
    "canned:GET": (AGENT, ADMIN),
    "canned:PUT": (ADMIN,),
    "users": (ADMIN,),
}


def _ep(handler: ConsoleHandler, roles: tuple[str, ...] = ()) -> Endpoint:
    return console_endpoint(handler, roles)


def console_api_routes(settings: Settings) -> list[BaseRoute]:
    """Every ``/console/api`` route, each behind its session, CSRF and role check."""
    return [
        Route("/console/api/login", _login(settings), methods=["POST"]),
        Route("/console/api/logout", _ep(logout), methods=["POST"]),
        Route("/console/api/logout-everywhere", _ep(logout_everywhere), methods=["POST"]),
        Route("/console/api/me", _ep(me)),
        Route("/console/api/ws-token", _ep(ws_token, ROLES_OF["ws-token"]), methods=["POST"]),
        Route("/console/api/agents", _ep(agents, ROLES_OF["agents"])),
        Route("/console/api/customers/{user}/tickets", _ep(customer_tickets, ROLES_OF["customers"])),
        Route("/console/api/customers/{user}/audience", _ep(customer_audience, ROLES_OF["customers"])),
        Route("/console/api/canned", _ep(canned, ROLES_OF["canned:GET"]), methods=["GET"]),
        Route("/console/api/canned", _ep(set_canned, ROLES_OF["canned:PUT"]), methods=["PUT"]),
        Route("/console/api/users", _ep(list_users, ROLES_OF["users"]), methods=["GET"]),
        Route("/console/api/users", _ep(add_user, ROLES_OF["users"]), methods=["POST"]),
        Route(
            "/console/api/users/{username}/logout-everywhere",
            _ep(user_logout_everywhere, ROLES_OF["users"]),
            methods=["POST"],
        ),
    ]
