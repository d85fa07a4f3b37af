"""``/console/api/tagdefs...`` for admins: the app's tag definitions (list, create, update, delete).

The same service as ``/v1/tags/definitions`` (:mod:`parley.server.admin.tagdefs_routes`), behind the
console's session, CSRF and ``admin`` role check; a refused field is named in the problem's
``field`` (the page shows it next to the input); every change is audited as ``console:<user>``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parley.server.admin.routes import json_response
from parley.server.admin.tagdefs_schemas import (
    TagDefinitionCreate,
    TagDefinitionList,
    TagDefinitionUpdate,
    definition_out,
)
from parley.server.console.api import body_of
from parley.server.console.session import Caller, console_endpoint
from parley.server.console_port import ConsoleRole
from parley.server.services import Services

__all__ = ["console_tagdef_routes"]

ADMIN = (ConsoleRole.ADMIN.value,)


async def tagdefs(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/tagdefs``: the app's tag definitions, by name."""
    found = await s.tagdefs.list(caller.user.app)
    return json_response(TagDefinitionList([definition_out(d) for d in found]))


async def create_tagdef(request: Request, s: Services, caller: Caller) -> Response:
    """``POST /console/api/tagdefs``: define a tag; 201; audited."""
    body = await body_of(request, TagDefinitionCreate)
    made = await s.tagdefs.create(caller.user.app, body.definition(body.name))
    await s.moderation.audit(caller.user.app, caller.actor, "tagdef.create", made.name, kind=made.kind)
    return json_response(definition_out(made), 201)


async def update_tagdef(request: Request, s: Services, caller: Caller) -> Response:
    """``PUT /console/api/tagdefs/{name}``: change a definition; audited."""
    body = await body_of(request, TagDefinitionUpdate)
    changed = await s.tagdefs.update(caller.user.app, body.definition(request.path_params["name"]))
    await s.moderation.audit(caller.user.app, caller.actor, "tagdef.update", changed.name, kind=changed.kind)
    return json_response(definition_out(changed))


async def delete_tagdef(request: Request, s: Services, caller: Caller) -> Response:
    """``DELETE /console/api/tagdefs/{name}``: remove a definition (tags already set stay); 204; audited."""
    name = request.path_params["name"]
    await s.tagdefs.delete(caller.user.app, name)
    await s.moderation.audit(caller.user.app, caller.actor, "tagdef.delete", name)
    return Response(status_code=204)


def console_tagdef_routes() -> list[BaseRoute]:
    """The routes, each behind the session, CSRF and ``admin`` role check."""
    return [
        Route("/console/api/tagdefs", console_endpoint(tagdefs, ADMIN), methods=["GET"]),
        Route("/console/api/tagdefs", console_endpoint(create_tagdef, ADMIN), methods=["POST"]),
        Route("/console/api/tagdefs/{name}", console_endpoint(update_tagdef, ADMIN), methods=["PUT"]),
        Route("/console/api/tagdefs/{name}", console_endpoint(delete_tagdef, ADMIN), methods=["DELETE"]),
    ]
