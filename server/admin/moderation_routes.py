"""Admin API for moderation by the app: ban, revoke, mute, rotate the secret, API keys, audit.

Every action is written to the app's audit log with the acting API key's id
(see :class:`~parley.server.services.moderation.ModerationService`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parley.proto.errors import ErrorCode
from parley.server.admin import moderation_schemas as ms
from parley.server.admin.routes import json_response, mark_audited, parse_body, path_user, with_app
from parley.server.errors import ServiceError
from parley.server.models import App
from parley.server.safety_models import Mute, UserStatus
from parley.server.services import Services
from parley.server.services.moderation import KEY_ID_LENGTH, key_id

__all__ = ["moderation_routes"]

AUDIT_PAGE_MAX = 500


def actor(request: Request) -> str:
    """Who acts: the id of the API key the request authenticated with. The handler asking writes
    its own audit record (so :func:`~parley.server.admin.routes.with_app` writes no generic one)."""
    mark_audited(request)
    return "key:" + key_id(request.headers.get("authorization", "").partition(" ")[2])


def _status(s: UserStatus) -> ms.UserStatusOut:
    return ms.UserStatusOut(s.user, s.disabled, s.reason, s.tokens_before, s.updated)


def _mute(m: Mute) -> ms.MuteOut:
    return ms.MuteOut(m.conv, m.user, m.until, m.reason)


# --------------------------------------------------------------------- users
async def user_status(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/users/{user}/status``: the user's moderation status (a default one if moderators never
    acted)."""
    return json_response(_status(await s.moderation.status(app.app, path_user(request))))


async def disable_user(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/users/{user}/disable``: ban the user: saved and audited, then the user's connections on
    every node are closed (4010) and their tokens refused until enabled again.
    """
    body = await parse_body(request, ms.DisableUser)
    status = await s.moderation.disable(app.app, actor(request), path_user(request), body.reason)
    return json_response(_status(status))


async def enable_user(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/users/{user}/enable``: lift a ban (new connections accepted again); audited."""
    return json_response(_status(await s.moderation.enable(app.app, actor(request), path_user(request))))


async def revoke_tokens(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/users/{user}/revoke-tokens``: refuse the user's tokens issued before ``before`` (s;
    default now) and close the connections made with them (4011); audited.
    """
    body = await parse_body(request, ms.RevokeTokens)
    user = path_user(request)
    return json_response(
        _status(await s.moderation.revoke_tokens(app.app, actor(request), user, body.before))
    )


# --------------------------------------------------------------------- mutes
async def list_mutes(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/conversations/{conv}/mutes``: the conversation's mutes that have not ended, by user id."""
    mutes = await s.moderation.mutes(app.app, request.path_params["conv"])
    return json_response(ms.MuteList(mutes=[_mute(m) for m in mutes]))


async def put_mute(request: Request, s: Services, app: App) -> Response:
    """``PUT /v1/conversations/{conv}/mutes/{user}``: mute (or re-mute, replacing) the member for ``seconds``;
    their next write is checked on every node. 404 for an unknown conversation; audited.
    """
    body = await parse_body(request, ms.MuteIn)
    conv, user = request.path_params["conv"], path_user(request)
    mute = await s.moderation.mute(app.app, actor(request), conv, user, body.seconds, body.reason)
    return json_response(_mute(mute))


async def delete_mute(request: Request, s: Services, app: App) -> Response:
    """``DELETE /v1/conversations/{conv}/mutes/{user}``: lift the mute; 204, 404 if there is none; audited."""
    conv, user = request.path_params["conv"], path_user(request)
    await s.moderation.unmute(app.app, actor(request), conv, user)
    return Response(status_code=204)


# ---------------------------------------------------------- secrets and keys
async def rotate_secret(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/secret/rotate``: a new token secret (shown once); the previous ones stay valid for
    ``overlap`` seconds (returned as ``previous_valid_until``, ms). Audited.
    """
    body = await parse_body(request, ms.RotateSecret)
    secret, until = await s.moderation.rotate_secret(app.app, actor(request), body.overlap)
    return json_response(ms.SecretRotated(secret=secret, previous_valid_until=until))


async def list_keys(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/keys``: the app's API keys as ids (a digest prefix) and creation times, oldest first;
    never the keys."""
    keys = await s.moderation.api_keys(app.app)
    out = [ms.ApiKeyOut(id=k.key_hash[:KEY_ID_LENGTH], created=k.created) for k in keys]
    return json_response(ms.ApiKeyList(keys=out))


async def create_key(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/keys``: another API key for the app, returned once in clear with its id; 201, audited."""
    key = await s.moderation.create_api_key(app.app, actor(request))
    return json_response(ms.ApiKeyCreated(id=key_id(key), api_key=key), 201)


async def revoke_key(request: Request, s: Services, app: App) -> Response:
    """``DELETE /v1/keys/{key}``: revoke the key with this id, on every node at once; 204, 404 if unknown;
    audited."""
    await s.moderation.revoke_api_key(app.app, actor(request), request.path_params["key"])
    return Response(status_code=204)


# --------------------------------------------------------------------- audit
async def audit(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/audit``: a page of the app's audit log in id (time) order after the cursor ``after``,
    ``limit`` 1-500 (default 100), with ``more``; filters ``actor``, ``target`` (exact), ``action``
    (a prefix: ``audience.`` is every audience action), ``since`` / ``until`` (ms, ``since <= ts < until``).
    """
    q = request.query_params
    after = q.get("after", "")
    try:
        limit = int(q.get("limit", "100"))
        since, until = (int(q.get(k, "0")) for k in ("since", "until"))
    except ValueError:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "limit, since and until must be integers") from None
    if not 1 <= limit <= AUDIT_PAGE_MAX or len(after) > 64:
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"limit must be between 1 and {AUDIT_PAGE_MAX}")
    if not (0 <= since < 10**13 and 0 <= until < 10**13):
        raise ServiceError(ErrorCode.INVALID_REQUEST, "since and until are times in ms (0 .. 10^13)")
    actor_, action, target = (q.get(k, "") for k in ("actor", "action", "target"))
    if max(len(actor_), len(action), len(target)) > 200:
        raise ServiceError(
            ErrorCode.INVALID_REQUEST, "actor, action and target filters are at most 200 characters"
        )
    records, more = await s.moderation.audit_page(
        app.app,
        after=after,
        limit=limit,
        actor=actor_,
        action=action,
        target=target,
        since=since,
        until=until,
    )
    out = [ms.AuditOut(r.id, r.ts, r.actor, r.action, r.target, r.detail) for r in records]
    return json_response(ms.AuditPage(records=out, more=more))


def moderation_routes() -> list[BaseRoute]:
    """The routes, for :func:`~parley.server.admin.routes.admin_routes`."""
    return [
        Route("/v1/users/{user}/status", with_app(user_status)),
        Route("/v1/users/{user}/disable", with_app(disable_user), methods=["POST"]),
        Route("/v1/users/{user}/enable", with_app(enable_user), methods=["POST"]),
        Route("/v1/users/{user}/revoke-tokens", with_app(revoke_tokens), methods=["POST"]),
        Route("/v1/conversations/{conv}/mutes", with_app(list_mutes)),
        Route("/v1/conversations/{conv}/mutes/{user}", with_app(put_mute), methods=["PUT"]),
        Route("/v1/conversations/{conv}/mutes/{user}", with_app(delete_mute), methods=["DELETE"]),
        Route("/v1/secret/rotate", with_app(rotate_secret), methods=["POST"]),
        Route("/v1/keys", with_app(list_keys)),
        Route("/v1/keys", with_app(create_key), methods=["POST"]),
        Route("/v1/keys/{key}", with_app(revoke_key), methods=["DELETE"]),
        Route("/v1/audit", with_app(audit)),
    ]
