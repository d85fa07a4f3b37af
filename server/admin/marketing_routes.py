"""Admin API of marketing: the send policy's settings, template checks, back-end pushes, campaigns.

Every route acts for the app of its API key. Errors are problems with stable codes
(``policy_invalid``, ``template_invalid``, ``template_variable_unknown``, ``campaign_invalid``,
``campaign_not_found``, ``campaign_state``, ``segment_not_found``); a refused request stores
nothing. See docs/MARKETING.md.
"""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from parley.proto.errors import ErrorCode, ProtocolError
from parley.proto.templates import template_variables, validate
from parley.server.admin.marketing_schemas import (
    CampaignList,
    CampaignOut,
    DecisionOut,
    PreviewIn,
    PreviewOut,
    PushIn,
    SendPolicyIO,
    TemplateCheck,
    TemplateIn,
)
from parley.server.admin.problems import problem
from parley.server.admin.results_schemas import CampaignResultsOut
from parley.server.admin.routes import AppHandler, json_response, parse_body, with_app
from parley.server.campaign_port import Campaign
from parley.server.errors import ServiceError
from parley.server.models import App
from parley.server.services import Services
from parley.server.services.campaign_defs import CampaignIn
from parley.server.services.send_policy import SendRequest

__all__ = ["marketing_routes"]


def _out(s: Services, c: Campaign, counts: dict[str, int] | None = None) -> CampaignOut:
    definition = s.campaigns.definition(c)
    return CampaignOut(c.cid, c.state, c.start_at, c.cursor, c.created, c.updated, definition, counts or {})


async def get_policy(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/marketing/policy``: the app's send-policy settings (defaults when never set)."""
    settings = await s.send_policy.settings(app.app)
    return json_response(msgspec.convert(settings.to_json(), SendPolicyIO))


async def put_policy(request: Request, s: Services, app: App) -> Response:
    """``PUT /v1/marketing/policy``: replace the settings (omitted fields take their defaults); 422
    ``policy_invalid`` stores nothing."""
    body = await parse_body(request, SendPolicyIO)
    settings = await s.send_policy.set_settings(app.app, msgspec.to_builtins(body))
    return json_response(msgspec.convert(settings.to_json(), SendPolicyIO))


async def check_template(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/marketing/templates/check``: 200 with the variables, or 422 ``template_invalid`` /
    ``template_variable_unknown`` (naming each unknown variable)."""
    body = await parse_body(request, TemplateIn)
    known = {*(await s.segments.attr_types(app.app)), "user"}
    try:
        validate(body.template, known)
    except ProtocolError as exc:
        raise ServiceError(exc.code, exc.message) from None
    return json_response(TemplateCheck(sorted(template_variables(body.template))))


async def push(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/marketing/push``: one message to one profile through the send policy, with its
    decision; a repeated ``key`` is a ``duplicate`` (nothing sent again)."""
    body = await parse_body(request, PushIn)
    if body.topic is None and not body.transactional:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "a push without a topic must be transactional")
    known = {*(await s.segments.attr_types(app.app)), "user"}
    try:
        validate(body.template, known)
    except ProtocolError as exc:
        raise ServiceError(exc.code, exc.message) from None
    request_ = SendRequest(
        app=app.app, key=f"push:{body.key}", pid=body.pid, template=body.template, campaign=body.key,
        topic=body.topic, transactional=body.transactional,
    )  # fmt: skip
    d = await s.send_policy.send(request_)
    return json_response(DecisionOut(d.outcome.value, d.mid, d.retry_at, d.detail))


async def create_campaign(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/campaigns``: validate the whole definition and store it ``scheduled``; 201."""
    body = await parse_body(request, CampaignIn)
    return json_response(_out(s, await s.campaigns.create(app.app, body)), 201)


async def list_campaigns(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/campaigns``: the app's campaigns by id."""
    return json_response(CampaignList([_out(s, c) for c in await s.campaigns.list_all(app.app)]))


async def get_campaign(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/campaigns/{cid}``: the campaign with its recipients per decision; 404 ``campaign_not_found``."""
    cid = request.path_params["cid"]
    campaign = await s.campaigns.get(app.app, cid)
    return json_response(_out(s, campaign, await s.campaigns.counts(app.app, cid)))


def _control(action: str) -> AppHandler:
    async def handler(request: Request, s: Services, app: App) -> Response:
        campaign = await s.campaigns.control(app.app, request.path_params["cid"], action)
        return json_response(_out(s, campaign))

    handler.__doc__ = f"``POST /v1/campaigns/{{cid}}/{action}``: 409 ``campaign_state`` if not allowed now."
    return handler


async def preview(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/campaigns/{cid}/preview``: the body profile ``pid`` would get; nothing sent or recorded."""
    body = await parse_body(request, PreviewIn)
    rendered = await s.campaigns.preview(app.app, request.path_params["cid"], body.pid, body.variant)
    return json_response(PreviewOut(rendered))


async def results(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/campaigns/{cid}/results[?bucket=hour|day][&occurrence=n]``: the funnel per arm, uplift,
    the split check and the timeline; 404 ``campaign_not_found``; 422 ``invalid_request`` for another
    bucket or an occurrence that has not opened."""
    campaign = await s.campaigns.get(app.app, request.path_params["cid"])
    control_pct = (await s.send_policy.settings(app.app)).control_pct
    raw = request.query_params.get("occurrence")
    if raw is not None and not raw.isdigit():
        raise ServiceError(ErrorCode.INVALID_REQUEST, "occurrence must be a whole number")
    doc = await s.results.results(
        campaign, s.campaigns.definition(campaign), control_pct,
        bucket=request.query_params.get("bucket", "hour"), occurrence=None if raw is None else int(raw),
    )  # fmt: skip
    return json_response(msgspec.convert(doc, CampaignResultsOut))


async def follow_link(request: Request) -> Response:
    """``GET /r/{token}``: count the click of a tracked url button, then 302 to its URL; 404
    ``link_invalid`` (nothing counted) for a token the server did not sign (services/links.py)."""
    s: Services = request.app.state.services
    try:
        link = await s.links.verify(request.path_params["token"])
    except ServiceError as exc:
        return problem(exc.code, exc.message)
    await s.measurement.record(
        link.app, link.key, link.pid, "clicked", arm=link.variant, evidence=f"url:{link.button}"
    )
    return RedirectResponse(link.url, status_code=302)


def marketing_routes() -> list[BaseRoute]:
    """The routes, for :func:`~parley.server.admin.routes.admin_routes`."""
    controls = [
        Route(f"/v1/campaigns/{{cid}}/{action}", with_app(_control(action)), methods=["POST"])
        for action in ("pause", "resume", "cancel")
    ]
    return [
        Route("/v1/marketing/policy", with_app(get_policy)),
        Route("/v1/marketing/policy", with_app(put_policy), methods=["PUT"]),
        Route("/v1/marketing/templates/check", with_app(check_template), methods=["POST"]),
        Route("/v1/marketing/push", with_app(push), methods=["POST"]),
        Route("/v1/campaigns", with_app(create_campaign), methods=["POST"]),
        Route("/v1/campaigns", with_app(list_campaigns)),
        Route("/v1/campaigns/{cid}", with_app(get_campaign)),
        Route("/v1/campaigns/{cid}/preview", with_app(preview), methods=["POST"]),
        Route("/v1/campaigns/{cid}/results", with_app(results)),
        Route("/r/{token}", follow_link),
        *controls,
    ]
