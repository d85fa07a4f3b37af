"""Admin API for tag definitions (``/v1/tags/definitions``): what each tag of the app means, its
kind, the sources allowed to set it and a default expiry (docs/CONSOLE.md "Tag definitions" states
the rule: enforced only for tags a person sets). Every change is audited (``tagdef.create``,
``tagdef.update``, ``tagdef.delete``); the console's admin page calls the same service.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parley.server.admin.moderation_routes import actor
from parley.server.admin.routes import json_response, parse_body, with_app
from parley.server.admin.tagdefs_schemas import (
    TagDefinitionCreate,
    TagDefinitionList,
    TagDefinitionUpdate,
    definition_out,
)
from parley.server.models import App
from parley.server.services import Services
from parley.server.tagdefs_port import TagDefinition

__all__ = ["tagdefs_routes"]


def _audit_detail(d: TagDefinition) -> dict[str, Any]:
    return {"kind": d.kind, "sources": list(d.sources), "expiry_s": d.expiry_s}


async def list_definitions(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/tags/definitions``: the app's tag definitions, by name."""
    found = await s.tagdefs.list(app.app)
    return json_response(TagDefinitionList([definition_out(d) for d in found]))


async def get_definition(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/tags/definitions/{name}``: one definition; 404 ``tag_definition_not_found``."""
    return json_response(definition_out(await s.tagdefs.get(app.app, request.path_params["name"])))


async def create_definition(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/tags/definitions``: 201 and the definition; 422 ``tag_definition_invalid``, 409
    ``tag_definition_exists`` (nothing stored); audited."""
    body = await parse_body(request, TagDefinitionCreate)
    made = await s.tagdefs.create(app.app, body.definition(body.name))
    await s.moderation.audit(app.app, actor(request), "tagdef.create", made.name, **_audit_detail(made))
    return json_response(definition_out(made), 201)


async def update_definition(request: Request, s: Services, app: App) -> Response:
    """``PUT /v1/tags/definitions/{name}``: replace the editable fields; 404 if absent; audited."""
    body = await parse_body(request, TagDefinitionUpdate)
    changed = await s.tagdefs.update(app.app, body.definition(request.path_params["name"]))
    await s.moderation.audit(app.app, actor(request), "tagdef.update", changed.name, **_audit_detail(changed))
    return json_response(definition_out(changed))


async def delete_definition(request: Request, s: Services, app: App) -> Response:
    """``DELETE /v1/tags/definitions/{name}``: 204 (tags already set stay); 404 if absent; audited."""
    name = request.path_params["name"]
    await s.tagdefs.delete(app.app, name)
    await s.moderation.audit(app.app, actor(request), "tagdef.delete", name)
    return Response(status_code=204)


def tagdefs_routes() -> list[BaseRoute]:
    """The routes, each behind the app's API key."""
    return [
        Route("/v1/tags/definitions", with_app(list_definitions)),
        Route("/v1/tags/definitions", with_app(create_definition), methods=["POST"]),
        Route("/v1/tags/definitions/{name}", with_app(get_definition)),
        Route("/v1/tags/definitions/{name}", with_app(update_definition), methods=["PUT"]),
        Route("/v1/tags/definitions/{name}", with_app(delete_definition), methods=["DELETE"]),
    ]
