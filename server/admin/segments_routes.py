"""Admin API for segments: preview (count + sample) and explain a rule, saved segments
(create / replace / delete / list, snapshot), and their members page by page.

A refused rule is ``422 segment_invalid`` (or ``409 segment_cycle``) whose problem document also
carries ``path``: the JSON pointer of the bad clause in the JSON form, or ``@<column>`` in the
text. Rules are evaluated in the store (see :mod:`parley.server.services.segments`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from parley.proto.errors import ErrorCode
from parley.proto.segments import Rule, SegmentError, encode_rule
from parley.proto.segments_text import to_text
from parley.server.admin import segments_schemas as ss
from parley.server.admin.routes import json_response, parse_body, with_app
from parley.server.errors import ServiceError, http_status
from parley.server.models import App
from parley.server.segments_port import SavedSegment
from parley.server.services import Services

__all__ = ["segments_routes"]

Handler = Callable[[Request, Services, App], Awaitable[Response]]


def _refused(exc: SegmentError) -> Response:
    """The problem document of a refused rule, with the clause's ``path``."""
    status = http_status(exc.code)
    body = {
        "type": f"https://parley.dev/problems/{exc.code.value}",
        "title": exc.code.value.replace("_", " "),
        "status": status,
        "detail": str(exc),
        "code": exc.code.value,
        "path": exc.path,
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _rules(handler: Handler) -> Handler:
    """Map a refused rule to its problem (other errors go on to :func:`with_app`)."""

    async def run(request: Request, s: Services, app: App) -> Response:
        try:
            return await handler(request, s, app)
        except SegmentError as exc:
            return _refused(exc)

    return run


def _out(seg: SavedSegment) -> ss.SegmentOut:
    return ss.SegmentOut(seg.id, seg.name, seg.text, msgspec.json.decode(seg.rule), seg.mode, seg.frozen_at,
                         seg.created, seg.updated, seg.version, seg.timed)  # fmt: skip


def _both(rule: Rule) -> tuple[str, object]:
    return to_text(rule), msgspec.json.decode(encode_rule(rule))


async def preview(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/audience/segments/preview``: count and a sample (first pids) of a rule; 200."""
    body = await parse_body(request, ss.PreviewIn)
    rule = s.segments.parse(body.text, body.rule)
    count, sample = await s.segments.preview(app.app, rule, body.sample)
    text, json_rule = _both(rule)
    return json_response(ss.Previewed(count, sample, text, json_rule))


async def explain(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/audience/segments/explain``: each clause's outcome for one profile; 404 if no such
    live profile."""
    body = await parse_body(request, ss.ExplainIn)
    why = await s.segments.explain(app.app, s.segments.parse(body.text, body.rule), body.pid)
    clauses = [ss.ClauseOut(c["path"], c["text"], c["held"]) for c in why["clauses"]]
    return json_response(ss.Explained(why["member"], clauses))


async def list_segments(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/audience/segments``: every saved segment, by id."""
    return json_response(ss.SegmentList([_out(x) for x in await s.segments.list_all(app.app)]))


async def create_segment(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/audience/segments``: save a new segment (``id`` required); 201. Its members are
    evaluated now (a snapshot's frozen)."""
    body = await parse_body(request, ss.SegmentIn)
    if body.id is None:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "id is required")
    rule = s.segments.parse(body.text, body.rule)
    return json_response(
        _out(await s.segments.save(app.app, body.id, body.name, rule, body.mode, create=True)), 201
    )


async def get_segment(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/audience/segments/{seg}``: one saved segment; 404 ``segment_not_found``."""
    return json_response(_out(await s.segments.get(app.app, request.path_params["seg"])))


async def put_segment(request: Request, s: Services, app: App) -> Response:
    """``PUT /v1/audience/segments/{seg}``: replace name, rule and mode (version + 1); members
    re-evaluated (no membership events for the change of rule itself)."""
    body = await parse_body(request, ss.SegmentIn)
    seg = request.path_params["seg"]
    if body.id not in (None, seg):
        raise ServiceError(ErrorCode.INVALID_REQUEST, "the id in the body differs from the path")
    rule = s.segments.parse(body.text, body.rule)
    return json_response(_out(await s.segments.save(app.app, seg, body.name, rule, body.mode, create=False)))


async def delete_segment(request: Request, s: Services, app: App) -> Response:
    """``DELETE /v1/audience/segments/{seg}``: 204; 404 if absent, 422 while another segment names it."""
    await s.segments.delete(app.app, request.path_params["seg"])
    return Response(status_code=204)


async def snapshot(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/audience/segments/{seg}/snapshot``: freeze the members as of now (mode snapshot)."""
    return json_response(_out(await s.segments.snapshot(app.app, request.path_params["seg"])))


async def members(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/audience/segments/{seg}/members?after=&limit=``: a page of members by pid (``limit``
    1-1000, default 100)."""
    raw = request.query_params.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "limit must be 1 .. 1000")
    after = request.query_params.get("after", "")
    page, frozen = await s.segments.members(app.app, request.path_params["seg"], after, int(raw))
    return json_response(ss.MemberPage(page, page[-1] if len(page) == int(raw) else "", frozen))


def segments_routes() -> list[BaseRoute]:
    """The segments routes."""
    base = "/v1/audience/segments"
    return [
        Route(f"{base}/preview", with_app(_rules(preview)), methods=["POST"]),
        Route(f"{base}/explain", with_app(_rules(explain)), methods=["POST"]),
        Route(base, with_app(list_segments)),
        Route(base, with_app(_rules(create_segment)), methods=["POST"]),
        Route(f"{base}/{{seg}}", with_app(get_segment)),
        Route(f"{base}/{{seg}}", with_app(_rules(put_segment)), methods=["PUT"]),
        Route(f"{base}/{{seg}}", with_app(delete_segment), methods=["DELETE"]),
        Route(f"{base}/{{seg}}/snapshot", with_app(_rules(snapshot)), methods=["POST"]),
        Route(f"{base}/{{seg}}/members", with_app(members)),
    ]
