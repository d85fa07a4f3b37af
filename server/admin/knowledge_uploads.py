"""Admin API of the knowledge uploads (for the bot service) and the console's upload routes.

``/v1/knowledge/uploads`` (API key): the bot service takes the files an admin uploaded from the
console (``?state=pending``: the oldest few, with their text), ingests each (parse, chunk, embed,
``PUT /v1/knowledge/sources/{source}``) and settles it with ``POST /v1/knowledge/uploads/{id}``
(``{version}`` or ``{error}``). ``/console/api/knowledge/uploads`` (admin): upload a file's text,
list the uploads with their state. See :mod:`parley.server.uploads_port`.
"""

from __future__ import annotations

import base64
import binascii

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parley.proto.errors import ErrorCode
from parley.server.admin.moderation_routes import actor
from parley.server.admin.routes import json_response, parse_body, with_app
from parley.server.admin.upload_schemas import UploadIn, UploadList, UploadOut, UploadSettle
from parley.server.console.session import Caller, console_endpoint, read_json_body
from parley.server.console_port import ConsoleRole
from parley.server.errors import ServiceError
from parley.server.models import App
from parley.server.services import Services
from parley.server.uploads_port import KnowledgeUpload

__all__ = ["knowledge_upload_routes"]


def _out(u: KnowledgeUpload, *, content: bool) -> UploadOut:
    return UploadOut(u.uid, u.source, u.by, u.created, u.state, u.version, u.error, u.updated,
                     u.content if content else None)  # fmt: skip


async def list_uploads(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/knowledge/uploads[?state=pending]``: for the bot, the oldest pending uploads with their
    text; without ``state``, the newest uploads (no text)."""
    pending = request.query_params.get("state") == "pending"
    found = await s.knowledge.uploads(app.app, pending=pending)
    return json_response(UploadList([_out(u, content=pending) for u in found]))


async def settle_upload(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/knowledge/uploads/{id}``: the bot's outcome; 204; 422 if no longer pending; audited."""
    body = await parse_body(request, UploadSettle)
    uid = request.path_params["id"]
    await s.knowledge.settle(app.app, uid, version=body.version, error=body.error)
    await s.moderation.audit(
        app.app, actor(request), "knowledge.ingest", uid, version=body.version, error=body.error[:200]
    )
    return Response(status_code=204)


async def console_upload(request: Request, s: Services, caller: Caller) -> Response:
    """``POST /console/api/knowledge/uploads`` (admin): queue a file for the bot service; 201; audited."""
    # base64 is 4/3 of the file and JSON escapes may grow a text: twice the file, and a little room
    try:
        raw = await read_json_body(request, s.knowledge.upload_max_bytes * 2 + 4096)
    except ServiceError as exc:
        raise s.knowledge.too_large() if exc.code is ErrorCode.BODY_TOO_LARGE else exc from None
    try:
        body = msgspec.json.decode(raw or b"{}", type=UploadIn)
        content: str | bytes = (
            base64.b64decode(body.content_base64, validate=True) if body.content_base64 else body.content
        )
    except (msgspec.MsgspecError, binascii.Error) as exc:
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"invalid body: {exc}") from None
    made = await s.knowledge.upload(caller.user.app, body.source, content, caller.actor)
    await s.moderation.audit(caller.user.app, caller.actor, "knowledge.upload", made.source, upload=made.uid)
    return json_response(_out(made, content=False), 201)


async def console_uploads(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/knowledge/uploads`` (admin): the newest uploads and their state."""
    found = await s.knowledge.uploads(caller.user.app, pending=False)
    return json_response(UploadList([_out(u, content=False) for u in found]))


def knowledge_upload_routes() -> list[BaseRoute]:
    """The bot's routes (API key) and the console's (session, CSRF, ``admin``)."""
    admin = (ConsoleRole.ADMIN.value,)
    return [
        Route("/v1/knowledge/uploads", with_app(list_uploads)),
        Route("/v1/knowledge/uploads/{id}", with_app(settle_upload), methods=["POST"]),
        Route("/console/api/knowledge/uploads", console_endpoint(console_upload, admin), methods=["POST"]),
        Route("/console/api/knowledge/uploads", console_endpoint(console_uploads, admin), methods=["GET"]),
    ]
