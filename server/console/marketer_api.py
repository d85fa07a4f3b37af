"""``/console/api/...`` for marketers (and admins): segments, campaigns, the send policy's settings.

The same services as the admin API's ``/v1/audience/segments`` and ``/v1/campaigns`` routes, behind
the console's session, CSRF and role check (``marketer`` or ``admin``; an agent gets 403). Every
change is audited as ``console:<user>``.

The segment builder keeps its form and its one-line text in sync through
``POST /console/api/segments/parse``: the page sends whichever the user edited and gets back both
forms, printed and parsed by the Python implementation (:mod:`parley.proto.segments_text`), with
the count and a sample. One grammar, so the browser and the server cannot drift (a JS port would
need its own copy of every rule of the grammar). A refused rule names the ``field`` it came from
(the text box or the form) and the clause's ``path``; a refused campaign names the wizard's field.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from parley.proto.errors import ErrorCode
from parley.proto.segments import Rule, SegmentError, encode_rule
from parley.proto.segments_text import to_text
from parley.proto.templates import Template
from parley.server.admin.routes import json_response
from parley.server.console.api import body_of
from parley.server.console.session import Caller, ConsoleHandler, console_endpoint
from parley.server.console_port import ConsoleRole
from parley.server.errors import ServerError, ServiceError, http_status
from parley.server.services import Services
from parley.server.services.campaign_defs import CampaignIn

__all__ = ["LIST_COUNTED", "MARKETING", "console_marketer_routes"]

#: Who may use the marketer pages and their API.
MARKETING = (ConsoleRole.MARKETER.value, ConsoleRole.ADMIN.value)
#: Profiles of a preview's sample shown with their attributes.
SAMPLE_SHOWN = 10
#: Campaigns of the list (the newest) that carry their counts; the page shows as many.
LIST_COUNTED = 20
#: A refused campaign's message → the wizard's field it is about (first match wins).
CAMPAIGN_FIELDS = (
    ("weights", "c-variants"), ("variant ids", "c-variants"), ("variants", "c-variants"),
    ("variant", "c-template"), ("template", "c-template"),
    ("start_at", "c-schedule"), ("stale_after", "c-schedule"), ("local_time", "c-schedule"),
    ("holdout", "c-holdout"), ("segment", "c-audience"), ("pids", "c-audience"),
    ("audience", "c-audience"), ("topic", "c-topic"), ("rate", "c-rate"), ("name", "c-name"),
)  # fmt: skip


class RuleIn(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /console/api/segments/parse`` and ``.../explain``: a rule as text or JSON."""

    text: str | None = None
    rule: Any = None
    sample: int = SAMPLE_SHOWN
    pid: str = ""


class SegmentIn(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /console/api/segments``: save (or, with ``replace``, replace) a segment."""

    id: str
    name: str
    text: str
    mode: str = "dynamic"
    replace: bool = False


class DraftIn(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /console/api/campaigns/render``: a template of the wizard, for one profile."""

    template: Template
    pid: str


def _refused(exc: SegmentError, field: str) -> Response:
    status = http_status(exc.code)
    body = {"type": f"https://parley.dev/problems/{exc.code.value}", "title": exc.code.value.replace("_", " "),
            "status": status, "detail": str(exc), "code": exc.code.value, "path": exc.path,
            "field": field}  # fmt: skip
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _rule_of(s: Services, body: RuleIn) -> tuple[Rule, str]:
    """The rule and the field it came from (the text wins when both are given)."""
    field = "seg-text" if body.text is not None else "seg-form"
    try:
        return s.segments.parse(body.text, None if body.text is not None else body.rule), field
    except SegmentError as exc:
        exc.field = field  # type: ignore[attr-defined]  # read by _segments below
        raise


def _segments(handler: ConsoleHandler) -> ConsoleHandler:
    async def run(request: Request, s: Services, caller: Caller) -> Response:
        try:
            return await handler(request, s, caller)
        except SegmentError as exc:
            return _refused(exc, getattr(exc, "field", "seg-text"))

    run.__doc__ = handler.__doc__
    return run


def _json(rule: Rule) -> Any:
    return msgspec.json.decode(encode_rule(rule))


async def parse(request: Request, s: Services, caller: Caller) -> Response:
    """``POST /console/api/segments/parse``: both forms of the rule (canonical text, JSON, and the
    top-level items' texts for the form's rows), its member count and a sample with attributes."""
    body = await body_of(request, RuleIn)
    rule, _ = _rule_of(s, body)
    app = caller.user.app
    count, pids = await s.segments.preview(app, rule, max(0, min(body.sample, SAMPLE_SHOWN)))
    sample = []
    for pid in pids:
        view = await s.audience.view(app, pid)
        sample.append({"pid": pid, "attributes": view.get("attributes", {})})
    kind = getattr(rule, "items", None)
    items = [{"text": to_text(i), "rule": _json(i)} for i in kind] if kind is not None else []
    return json_response({"text": to_text(rule), "rule": _json(rule), "items": items, "count": count,
                          "sample": sample})  # fmt: skip


async def explain(request: Request, s: Services, caller: Caller) -> Response:
    """``POST /console/api/segments/explain``: why profile ``pid`` is in the rule's segment or not."""
    body = await body_of(request, RuleIn)
    if not body.pid:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "pid is required")
    rule, _ = _rule_of(s, body)
    return json_response(await s.segments.explain(caller.user.app, rule, body.pid))


async def list_segments(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/segments``: the saved segments (id, name, text, mode, version)."""
    found = await s.segments.list_all(caller.user.app)
    return json_response([{"id": x.id, "name": x.name, "text": x.text, "mode": x.mode, "version": x.version}
                          for x in found])  # fmt: skip


async def save_segment(request: Request, s: Services, caller: Caller) -> Response:
    """``POST /console/api/segments``: save the builder's segment (its text); 201; audited."""
    body = await body_of(request, SegmentIn)
    if body.mode not in ("dynamic", "snapshot"):
        raise ServiceError(ErrorCode.INVALID_REQUEST, "mode is dynamic or snapshot")
    rule, _ = _rule_of(s, RuleIn(text=body.text))
    app = caller.user.app
    saved = await s.segments.save(app, body.id, body.name, rule, body.mode, create=not body.replace)  # type: ignore[arg-type]
    await s.moderation.audit(
        app, caller.actor, "segment.save", saved.id, version=saved.version, text=saved.text
    )
    return json_response(
        {"id": saved.id, "name": saved.name, "text": saved.text, "version": saved.version}, 201
    )


def _campaign(s: Services, c: Any, counts: dict[str, int] | None = None) -> dict[str, Any]:
    return {"cid": c.cid, "state": c.state, "start_at": c.start_at, "created": c.created, "updated": c.updated,
            "definition": msgspec.to_builtins(s.campaigns.definition(c)), "counts": counts or {}}  # fmt: skip


async def list_campaigns(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/campaigns``: the app's campaigns (newest first), the newest
    :data:`LIST_COUNTED` with their recipients per decision (the page refreshes the list every
    2 s: one request instead of one per campaign)."""
    app = caller.user.app
    found = sorted(await s.campaigns.list_all(app), key=lambda c: -c.created)
    counted = [_campaign(s, c, await s.campaigns.counts(app, c.cid)) for c in found[:LIST_COUNTED]]
    return json_response(counted + [_campaign(s, c) for c in found[LIST_COUNTED:]])


async def get_campaign(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/campaigns/{cid}``: one campaign with its recipients per decision."""
    app, cid = caller.user.app, request.path_params["cid"]
    return json_response(_campaign(s, await s.campaigns.get(app, cid), await s.campaigns.counts(app, cid)))


def _field_of(message: str) -> str:
    lowered = message.lower()
    return next((field for word, field in CAMPAIGN_FIELDS if word in lowered), "c-form")


async def create_campaign(request: Request, s: Services, caller: Caller) -> Response:
    """``POST /console/api/campaigns``: validate and store (it starts at ``start_at``); 201; audited.
    A refusal names the wizard's field it is about."""
    body = await body_of(request, CampaignIn)
    app = caller.user.app
    try:
        c = await s.campaigns.create(app, body)
    except ServerError as exc:
        exc.field = _field_of(str(exc))  # type: ignore[attr-defined]  # shown next to that field
        raise
    await s.moderation.audit(app, caller.actor, "campaign.create", c.cid, name=body.name, topic=body.topic)
    return json_response(_campaign(s, c), 201)


def _control(action: str) -> ConsoleHandler:
    async def handler(request: Request, s: Services, caller: Caller) -> Response:
        app, cid = caller.user.app, request.path_params["cid"]
        c = await s.campaigns.control(app, cid, action)
        await s.moderation.audit(app, caller.actor, f"campaign.{action}", cid)
        return json_response(_campaign(s, c))

    handler.__doc__ = f"``POST /console/api/campaigns/{{cid}}/{action}``: audited; 409 if not allowed now."
    return handler


async def render_draft(request: Request, s: Services, caller: Caller) -> Response:
    """``POST /console/api/campaigns/render``: the wizard's template for one profile, each language."""
    body = await body_of(request, DraftIn)
    try:
        rendered = await s.campaigns.render_draft(caller.user.app, body.template, body.pid)
    except ServerError as exc:
        exc.field = "c-preview-pid" if exc.code is ErrorCode.NOT_FOUND else "c-template"  # type: ignore[attr-defined]
        raise
    return json_response({"languages": rendered})


async def policy(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/marketing/policy``: the send policy's settings (read-only here)."""
    return json_response((await s.send_policy.settings(caller.user.app)).to_json())


def console_marketer_routes() -> list[BaseRoute]:
    """The marketers' routes, each behind the session, CSRF and ``marketer``/``admin`` role check."""
    r: list[tuple[str, ConsoleHandler, str]] = [
        ("/console/api/segments/parse", _segments(parse), "POST"),
        ("/console/api/segments/explain", _segments(explain), "POST"),
        ("/console/api/segments", list_segments, "GET"),
        ("/console/api/segments", _segments(save_segment), "POST"),
        ("/console/api/campaigns", list_campaigns, "GET"),
        ("/console/api/campaigns", create_campaign, "POST"),
        ("/console/api/campaigns/render", render_draft, "POST"),
        ("/console/api/campaigns/{cid}", get_campaign, "GET"),
        *(
            (f"/console/api/campaigns/{{cid}}/{a}", _control(a), "POST")
            for a in ("pause", "resume", "cancel")
        ),
        ("/console/api/marketing/policy", policy, "GET"),
    ]
    return [Route(path, console_endpoint(h, MARKETING), methods=[m]) for path, h, m in r]
