"""Admin API for audience profiles and One ID (``/v1/audience/...``; docs/ADMIN_API.md, docs/AUDIENCE.md).

Handlers are thin: parse the body, call ``Services.audience`` / ``Services.identity``, encode the
result. Failures are problems with the stable codes of docs/PROTOCOL.md (``schema_invalid``,
``attribute_unknown``, ``attribute_type``, ``consent_invalid``, ``identifier_invalid``,
``merge_guard``, ``profile_not_found``). Every change is validated whole before anything is stored.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parley.proto.errors import ErrorCode
from parley.server.admin import audience_schemas as a
from parley.server.admin.compliance_routes import compliance_routes
from parley.server.admin.routes import json_response, parse_body, with_app
from parley.server.errors import ServiceError
from parley.server.models import App
from parley.server.services import Services
from parley.server.services.audience import TagSpec
from parley.server.services.identity_values import normalise

__all__ = ["audience_routes"]


async def put_schema(request: Request, s: Services, app: App) -> Response:
    """``PUT /v1/audience/schema``: replace the app's schema document (validated whole: 422
    ``schema_invalid`` naming the first fault, nothing stored); returns it with its new version."""
    try:
        doc: Any = msgspec.json.decode(await request.body() or b"{}")
    except (msgspec.DecodeError, RecursionError):
        raise ServiceError(ErrorCode.INVALID_REQUEST, "the body is not valid JSON") from None
    version = await s.audience.put_schema(app.app, doc)
    return json_response(a.AudienceSchemaOut(version=version, schema=doc))


async def get_schema(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/audience/schema``: the schema document and its version (0 and ``{}`` before the first)."""
    version, doc = await s.audience.get_schema(app.app)
    return json_response(a.AudienceSchemaOut(version=version, schema=doc))


async def identify(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/audience/identify``: the One ID rule (docs/AUDIENCE.md ``## Identity``); 422
    ``identifier_invalid``, 409 ``merge_guard`` (nothing merged or attached)."""
    body = await parse_body(request, a.IdentifyIn)
    result = await s.identity.identify(
        app.app, [(i.kind, i.value) for i in body.identifiers], actor=f"api:{body.actor}"
    )
    return json_response(result)


async def by_identifier(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/audience/identifiers/{kind}/{value}``: the live profile holding the (normalised)
    identifier; 404 ``profile_not_found`` if nobody does."""
    schema = await s.audience.schema(app.app)
    ident = normalise(request.path_params["kind"], request.path_params["value"], schema.default_region)
    pid = await s.identity.holder(app.app, ident)
    if pid is None:
        raise ServiceError(ErrorCode.PROFILE_NOT_FOUND, f"no profile holds this {ident.kind} identifier")
    return json_response(await s.audience.view(app.app, pid))


async def get_profile(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/audience/profiles/{pid}``: the profile (a merged pid reads as its survivor); 404."""
    return json_response(await s.audience.view(app.app, request.path_params["pid"]))


async def patch_profile(request: Request, s: Services, app: App) -> Response:
    """``PATCH /v1/audience/profiles/{pid}``: one atomic change (attributes, timezone, language, tags,
    consent recorded ``via`` ``console``/``api`` with ``ref``); all or nothing."""
    body = await parse_body(request, a.ProfilePatch)
    refs = {c.ref for c in body.consent}
    view = await s.audience.update(
        app.app,
        request.path_params["pid"],
        actor=f"api:{body.actor}",
        attributes=body.attributes,
        timezone=body.timezone,
        language=body.language,
        add_tags=[TagSpec(t.name, t.confidence, t.evidence, t.ttl) for t in body.add_tags],
        remove_tags=body.remove_tags,
        source=body.source,
        consent=[(c.topic, c.state) for c in body.consent],
        via=("api", ",".join(sorted(r for r in refs if r))),
    )
    return json_response(view)


async def tag_history(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/audience/profiles/{pid}/tags/history``: every tag change of the person (``?name=``)."""
    name = request.query_params.get("name", "")
    return json_response({"history": await s.audience.tag_history(app.app, request.path_params["pid"], name)})


async def consent_ledger(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/audience/profiles/{pid}/consent``: the person's consent ledger (``?topic=``)."""
    topic = request.query_params.get("topic", "")
    return json_response(
        {"ledger": await s.audience.consent_ledger(app.app, request.path_params["pid"], topic)}
    )


async def profile_merges(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/audience/profiles/{pid}/merges``: the merges the profile took part in, explained."""
    pid = (await s.audience.live_profile(app.app, request.path_params["pid"])).pid
    return json_response({"merges": await s.identity.merges(app.app, pid)})


async def get_merge(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/audience/merges/{mid}``: one merge explained; 404 ``profile_not_found``."""
    return json_response(await s.identity.explain(app.app, request.path_params["mid"]))


async def unmerge(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/audience/merges/{mid}/unmerge``: undo a standing merge; 404 if there is none."""
    return json_response(await s.identity.unmerge(app.app, request.path_params["mid"]))


def audience_routes() -> list[BaseRoute]:
    """The audience profile and identity routes."""
    return [
        Route("/v1/audience/schema", with_app(get_schema)),
        Route("/v1/audience/schema", with_app(put_schema), methods=["PUT"]),
        Route("/v1/audience/identify", with_app(identify), methods=["POST"]),
        Route("/v1/audience/identifiers/{kind}/{value}", with_app(by_identifier)),
        Route("/v1/audience/profiles/{pid}", with_app(get_profile)),
        Route("/v1/audience/profiles/{pid}", with_app(patch_profile), methods=["PATCH"]),
        Route("/v1/audience/profiles/{pid}/tags/history", with_app(tag_history)),
        Route("/v1/audience/profiles/{pid}/consent", with_app(consent_ledger)),
        Route("/v1/audience/profiles/{pid}/merges", with_app(profile_merges)),
        Route("/v1/audience/merges/{mid}", with_app(get_merge)),
        Route("/v1/audience/merges/{mid}/unmerge", with_app(unmerge), methods=["POST"]),
        *compliance_routes(),
    ]
