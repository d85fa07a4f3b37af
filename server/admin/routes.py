"""The HTTP admin API for app back-ends: ``/v1/...`` with ``Authorization: Bearer <api key>``.

Handlers are thin: parse and validate the body (msgspec), call a service,
encode the result. Every failure is an ``application/problem+json`` response.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from parley.proto.errors import ErrorCode
from parley.proto.ids import is_user_id
from parley.proto.plain import MAX_DEPTH
from parley.proto.plain import problem as plain_problem
from parley.server.admin import schemas
from parley.server.admin.guard import KeyRateLimiter, RateLimited
from parley.server.admin.openapi import openapi_document
from parley.server.admin.problems import problem, problem_for
from parley.server.auth.identity import SYSTEM_USER
from parley.server.errors import ServerError, ServiceError
from parley.server.models import App, User
from parley.server.services import Services
from parley.server.services.moderation import key_id
from parley.server.services.wire import wire_message
from parley.server.settings import Settings

__all__ = ["admin_routes", "json_response", "mark_audited", "parse_body", "path_user", "with_app"]

T = TypeVar("T")
AppHandler = Callable[[Request, Services, App], Awaitable[Response]]

EXPORT_PAGE = 500


def json_response(value: Any, status: int = 200) -> Response:
    """A JSON response of ``value`` encoded with msgspec (structs, dataclasses and plain data), with
    ``status``."""
    return Response(msgspec.json.encode(value), status_code=status, media_type="application/json")


async def parse_body(request: Request, kind: type[T]) -> T:
    """Decode and validate a JSON body as ``kind``; its free-form values must be plain data
    (:mod:`parley.proto.plain`, the rule the gateway applies to frames)."""
    raw = await request.body()
    try:
        value = msgspec.json.decode(raw or b"{}", type=kind)
    except msgspec.ValidationError as exc:
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"invalid body: {exc}") from None
    except msgspec.DecodeError:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "the body is not valid JSON") from None
    except RecursionError:
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"the body is nested deeper than {MAX_DEPTH}") from None
    why = plain_problem(value)
    if why:
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"invalid body: {why}")
    return value


#: Largest integer query parameter (seqs and limits are at most 2**53, like on the wire).
MAX_INT_PARAM = 2**53


def _int_param(request: Request, name: str, default: int | None = None) -> int | None:
    """An integer query parameter in ``0 … 2**53`` (422 ``invalid_request`` otherwise: a store
    would overflow on ``-10**20``)."""
    value = request.query_params.get(name)
    if value is None:
        return default
    if not (value.isascii() and value.isdigit() and len(value) <= 16 and int(value) <= MAX_INT_PARAM):
        raise ServiceError(
            ErrorCode.INVALID_REQUEST, f"query parameter {name!r} must be an integer from 0 to 2^53"
        )
    return int(value)


def path_user(request: Request) -> str:
    """The ``{user}`` of the path, in the user-id charset (else 422 ``invalid_request``)."""
    user: str = request.path_params["user"]
    if not is_user_id(user):
        raise ServiceError(
            ErrorCode.INVALID_REQUEST, "the user id in the path is outside the user-id charset"
        )
    return user


def _user_out(u: User) -> schemas.UserOut:
    return schemas.UserOut(
        user=u.user, name=u.name, role=u.role, meta=u.meta, created=u.created, last_seen=u.last_seen
    )


#: Methods that change state: every successful one is in the app's audit log.
CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def mark_audited(request: Request) -> None:
    """Say that the handler writes its own, more specific audit record for this request, or
    deliberately none (a lease's renewals, ``lease_routes``), so :func:`with_app` does not write
    the generic one."""
    request.state.audited = True


async def _audit(request: Request, services: Services, app: App, handler: AppHandler) -> None:
    """The generic record of a successful change: ``api.<handler>`` by the API key's id, on the
    request path (ids only: personal values are never in admin API paths that change state)."""
    if getattr(request.state, "audited", False):
        return
    key = request.headers.get("authorization", "").partition(" ")[2]
    await services.moderation.audit(
        app.app, "key:" + key_id(key), "api." + handler.__name__, request.url.path, method=request.method
    )


def with_app(handler: AppHandler) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate the API key, then run ``handler``; map errors to problems. A successful
    state-changing request is written to the app's audit log (see :func:`_audit`)."""

    async def endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        try:
            scheme, _, key = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not key:
                return problem(ErrorCode.NOT_AUTHENTICATED, "send 'Authorization: Bearer <api key>'")
            app = await services.apps.app_for_key(key)
            if app is None:
                return problem(ErrorCode.TOKEN_INVALID, "unknown API key")
            limiter: KeyRateLimiter = request.app.state.admin_limiter
            limiter.check(key)  # after the key proved valid: unknown keys cannot fill the limiter
            response = await handler(request, services, app)
            if request.method in CHANGING and response.status_code < 400:
                await _audit(request, services, app, handler)
            return response
        except RateLimited as exc:
            response = problem_for(exc)
            response.headers["retry-after"] = str(exc.retry_after)
            return response
        except ServerError as exc:  # refused or unavailable; anything else is the guard's 500
            return problem_for(exc)

    endpoint.audits = True  # type: ignore[attr-defined]  # the route-table walk checks it
    return endpoint


# --------------------------------------------------------------------- users
async def create_user(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/users``: create or update a user (:class:`schemas.CreateUser`); 201 with the user.
    The name and meta are screened for the app's sensitive words first; flagged values are queued for review.
    """
    body = await parse_body(request, schemas.CreateUser)
    # A display name and profile are what the user chose: screened for sensitive words.
    named = await s.words.screen_now(app.app, {"name": body.name, "meta": body.meta})
    name, meta = named.value["name"], named.value["meta"]
    user = await s.apps.upsert_user(app.app, body.user, name=name, role=body.role, meta=meta)
    if named.flags:
        s.words.flag_later(app.app, "", 0, body.user, named.flags, named.value)
    return json_response(_user_out(user), 201)


async def get_user(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/users/{user}``: the stored user; 404 ``not_found`` if it was never stored."""
    return json_response(_user_out(await s.apps.get_user(app.app, path_user(request))))


async def create_token(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/tokens``: a signed user token and its expiry (s); 201. ``ttl`` is bounded by the server's
    maximum."""
    body = await parse_body(request, schemas.CreateToken)
    token, expires = await s.apps.token(app.app, body.user, ttl=body.ttl)
    return json_response(schemas.TokenIssued(token=token, expires=expires), 201)


async def user_conversations(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/users/{user}/conversations``: every conversation of the user, with unread counts and
    previews."""
    convs, _ = await s.conversations.list_for_user(app.app, path_user(request))
    return json_response(schemas.ConversationList(conversations=convs))


async def message_user(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/users/{user}/messages``: send from ``sender`` to ``user`` in their direct conversation
    (created if missing, unique per pair). 201 with the message; 200 for a repeated ``cmid`` (the original).
    """
    body = await parse_body(request, schemas.PostMessage)
    user = path_user(request)
    if user == body.sender:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "sender and recipient are the same user")
    view = await s.conversations.create(app.app, body.sender, "direct", [user])
    return await _post(s, app, view.conversation.conv, body)


# ------------------------------------------------------------- conversations
async def create_conversation(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/conversations``: create a conversation owned by ``owner`` (default: the first
    member); 201 with its record. A direct one that exists is returned, not duplicated.
    """
    body = await parse_body(request, schemas.CreateConversation)
    owner = body.owner or body.members[0]
    view = await s.conversations.create(
        app.app, owner, body.kind, body.members, name=body.name, meta=body.meta
    )
    return json_response(view.info(), 201)


async def get_conversation(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/conversations/{conv}``: the conversation with every member; 404 if absent."""
    return json_response((await s.conversations.view(app.app, request.path_params["conv"])).info())


async def add_members(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/conversations/{conv}/members``: add users as the app's back-end (no manager check);
    returns those newly added (re-adding is a no-op). Direct conversations refuse (403).
    """
    body = await parse_body(request, schemas.AddMembers)
    added = await s.conversations.add_members(
        app.app, SYSTEM_USER, request.path_params["conv"], body.users, body.role, as_service=True
    )
    return json_response(schemas.AddedMembers(added=added))


async def remove_member(request: Request, s: Services, app: App) -> Response:
    """``DELETE /v1/conversations/{conv}/members/{user}``: remove as the back-end; 204, or 404 if not a
    member."""
    conv, user = request.path_params["conv"], path_user(request)
    removed = await s.conversations.remove_members(app.app, SYSTEM_USER, conv, [user], as_service=True)
    if not removed:
        raise ServiceError(ErrorCode.NOT_FOUND, f"{user} is not a member of {conv}")
    return Response(status_code=204)


async def post_message(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/conversations/{conv}/messages``: send as ``sender`` (no membership check: the back-end
    speaks for the app); 404 for an unknown conversation, 201 with the message, 200 for a repeated ``cmid``.
    """
    body = await parse_body(request, schemas.PostMessage)
    conv = request.path_params["conv"]
    await s.conversations.view(app.app, conv)  # 404 for an unknown conversation
    return await _post(s, app, conv, body)


async def _post(s: Services, app: App, conv: str, body: schemas.PostMessage) -> Response:
    result = await s.messages.send(
        app.app, body.sender, conv, kind=body.kind, body=body.body, cmid=body.cmid, mentions=body.mentions
    )
    return json_response(wire_message(result.message), 200 if result.duplicate else 201)


async def list_messages(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/conversations/{conv}/messages``: a history page (``before`` or ``after`` a seq,
    ``limit`` 1-500, default 50), ascending by seq, with ``more``.
    """
    conv = request.path_params["conv"]
    limit = _int_param(request, "limit", 50) or 50
    if not 1 <= limit <= 500:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "limit must be between 1 and 500")
    messages, more = await s.history.page(
        app.app, conv, before=_int_param(request, "before"), after=_int_param(request, "after"), limit=limit
    )
    return json_response(schemas.MessagePage(messages=[wire_message(m) for m in messages], more=more))


async def export_messages(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/conversations/{conv}/export``: every message up to the ``last_seq`` seen at the start,
    as NDJSON in seq order, streamed in pages of :data:`EXPORT_PAGE`. A store failure mid-stream
    cuts the response (its 200 status is already sent).
    """
    conv = request.path_params["conv"]
    last_seq = (await s.conversations.view(app.app, conv)).conversation.last_seq

    async def lines() -> AsyncIterator[bytes]:
        for first in range(1, last_seq + 1, EXPORT_PAGE):
            page = await s.history.messages(app.app, conv, first, min(last_seq, first + EXPORT_PAGE - 1))
            yield b"".join(msgspec.json.encode(wire_message(m)) + b"\n" for m in page)

    return StreamingResponse(lines(), media_type="application/x-ndjson")


# ---------------------------------------------------------------- server admin
def _create_app(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        _, _, key = request.headers.get("authorization", "").partition(" ")
        if not settings.admin_key or not hmac.compare_digest(key.encode(), settings.admin_key.encode()):
            return problem(ErrorCode.FORBIDDEN, "creating apps needs the server admin key")
        services: Services = request.app.state.services
        try:
            body = await parse_body(request, schemas.CreateApp)
            created = await services.apps.create_app(body.name)
            await services.moderation.audit(created.app.app, "server-admin", "app.create", created.app.app)
        except ServerError as exc:
            return problem_for(exc)
        a = created.app
        return json_response(
            schemas.AppCreated(app=a.app, name=a.name, secret=a.secret, api_key=created.api_key), 201
        )

    endpoint.audits = True  # type: ignore[attr-defined]  # audited as app.create (route-table walk)
    return endpoint


def moderation_routes() -> list[BaseRoute]:
    """The moderation and word-list routes (imported late: those modules import this one)."""
    from parley.server.admin.moderation_routes import moderation_routes as routes  # imports this module
    from parley.server.admin.words_routes import words_routes

    return [*routes(), *words_routes()]


def policy_routes() -> list[BaseRoute]:
    """The reach-policy routes (imported late: that module imports this one)."""
    from parley.server.admin.policy_routes import policy_routes as routes  # imports this module

    return routes()


def events_routes() -> list[BaseRoute]:
    """The audience events routes (imported late: that module imports this one)."""
    from parley.server.admin.events_routes import events_routes as routes  # imports this module

    return routes()


def service_routes() -> list[BaseRoute]:
    """The customer-service routes: knowledge, tickets, profiles (imported late: that module imports this
    one)."""
    from parley.server.admin.service_routes import service_routes as routes  # imports this module

    return routes()


def audience_routes() -> list[BaseRoute]:
    """The audience profile / One ID routes (imported late: that module imports this one)."""
    from parley.server.admin.audience_routes import audience_routes as routes  # imports this module

    return routes()


def segments_routes() -> list[BaseRoute]:
    """The segments routes (imported late: that module imports this one)."""
    from parley.server.admin.segments_routes import segments_routes as routes  # imports this module

    return routes()


def marketing_routes() -> list[BaseRoute]:
    """The marketing routes: send policy, templates, pushes, campaigns (imported late: that module
    imports this one)."""
    from parley.server.admin.marketing_routes import marketing_routes as routes  # imports this module

    return routes()


def journey_routes() -> list[BaseRoute]:
    """The journeys routes (imported late: that module imports this one)."""
    from parley.server.admin.journey_routes import journey_routes as routes  # imports this module

    return routes()


async def openapi(request: Request) -> Response:
    """``GET /openapi.json``: the admin API's OpenAPI document (no authentication)."""
    return json_response(openapi_document())


def admin_routes(settings: Settings) -> list[BaseRoute]:
    """Every admin API route. ``/v1/apps`` needs the server admin key; every other ``/v1`` route an
    app's API key (:func:`with_app`), so each handler acts only on that app.
    """
    return [
        Route("/openapi.json", openapi),
        Route("/v1/apps", _create_app(settings), methods=["POST"]),
        Route("/v1/users", with_app(create_user), methods=["POST"]),
        Route("/v1/users/{user}", with_app(get_user)),
        Route("/v1/users/{user}/conversations", with_app(user_conversations)),
        Route("/v1/users/{user}/messages", with_app(message_user), methods=["POST"]),
        Route("/v1/tokens", with_app(create_token), methods=["POST"]),
        Route("/v1/conversations", with_app(create_conversation), methods=["POST"]),
        Route("/v1/conversations/{conv}", with_app(get_conversation)),
        Route("/v1/conversations/{conv}/members", with_app(add_members), methods=["POST"]),
        Route("/v1/conversations/{conv}/members/{user}", with_app(remove_member), methods=["DELETE"]),
        Route("/v1/conversations/{conv}/messages", with_app(post_message), methods=["POST"]),
        Route("/v1/conversations/{conv}/messages", with_app(list_messages), methods=["GET"]),
        Route("/v1/conversations/{conv}/export", with_app(export_messages)),
        *service_routes(),
        *moderation_routes(),
        *policy_routes(),
        *audience_routes(),
        *segments_routes(),
        *events_routes(),
        *marketing_routes(),
        *journey_routes(),
    ]
