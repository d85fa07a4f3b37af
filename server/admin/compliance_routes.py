"""Admin API for compliance: export and erase one person, list erase records (docs/AUDIENCE.md
``## Compliance``, docs/ADMIN_API.md).

Export and erase are written to the app's audit log (``GET /v1/audit``) with the acting API key.
Failures: 404 ``profile_not_found`` (an unknown person, never erased), 422 ``invalid_request``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from parley.proto.errors import ErrorCode
from parley.server.admin.audience_schemas import IdentifyIn
from parley.server.admin.moderation_routes import actor
from parley.server.admin.routes import json_response, parse_body, with_app
from parley.server.compliance_port import ErasureRecord
from parley.server.errors import ServiceError
from parley.server.models import App
from parley.server.services import Services
from parley.server.services.identity_values import normalise

__all__ = ["compliance_routes"]

#: Largest page of ``GET /v1/audience/erasures``.
ERASURES_PAGE_MAX = 500
#: Identifiers one release may name.
MAX_RELEASE = 16


def _out(r: ErasureRecord) -> dict[str, object]:
    return {"id": r.id, "pid": r.pid, "actor": r.actor, "state": r.state, "started": r.started,
            "finished": r.finished, "counts": r.counts}  # fmt: skip


async def export_person(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/audience/profiles/{pid}/export``: everything stored about the person as NDJSON
    (one ``{"type", "data"}`` object a line), streamed a page at a time; audited. 404 first."""
    pid = request.path_params["pid"]
    lines = await s.compliance.export(app.app, pid)
    await s.moderation.audit(app.app, actor(request), "audience.export", pid)
    return StreamingResponse(lines, media_type="application/x-ndjson")


async def erase_person(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/audience/profiles/{pid}/erase``: erase the person (idempotent: again returns the
    record); the erase record, without personal data. 404 ``profile_not_found``."""
    record = await s.compliance.erase(app.app, request.path_params["pid"], actor(request))
    return json_response(_out(record))


async def release(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/audience/erasures/release``: lift the tombstones of these identifiers (the person
    came back and asked to be known again); ``{"lifted": n}``; audited. 422 ``identifier_invalid``."""
    body = await parse_body(request, IdentifyIn)
    if not 1 <= len(body.identifiers) <= MAX_RELEASE:
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"release takes 1..{MAX_RELEASE} identifiers")
    schema = await s.audience.schema(app.app)
    idents = [normalise(i.kind, i.value, schema.default_region) for i in body.identifiers]
    return json_response({"lifted": await s.compliance.release(app.app, idents, actor(request))})


async def list_erasures(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/audience/erasures?after=&limit=``: erase records by id, with ``more``."""
    after = request.query_params.get("after", "")
    raw = request.query_params.get("limit", "100")
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= ERASURES_PAGE_MAX) or len(after) > 128:
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"limit must be between 1 and {ERASURES_PAGE_MAX}")
    limit = int(raw)
    records = await s.compliance.erasures(app.app, after=after, limit=limit + 1)
    return json_response({"erasures": [_out(r) for r in records[:limit]], "more": len(records) > limit})


def compliance_routes() -> list[BaseRoute]:
    """The export / erase routes."""
    return [
        Route("/v1/audience/profiles/{pid}/export", with_app(export_person)),
        Route("/v1/audience/profiles/{pid}/erase", with_app(erase_person), methods=["POST"]),
        Route("/v1/audience/erasures", with_app(list_erasures)),
        Route("/v1/audience/erasures/release", with_app(release), methods=["POST"]),
    ]
