"""Bodies of the marketing admin API (send policy, templates, pushes, campaigns) — msgspec structs
that validate the JSON and generate the OpenAPI schemas — and its OpenAPI paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec

from parley.proto.templates import Template
from parley.server.admin.results_schemas import CampaignResultsOut
from parley.server.services.campaign_defs import CampaignIn

__all__ = [
    "MODELS",
    "CampaignList",
    "CampaignOut",
    "CapRuleIO",
    "DecisionOut",
    "PreviewIn",
    "PreviewOut",
    "PushIn",
    "QuietIO",
    "SendPolicyIO",
    "TemplateCheck",
    "TemplateIn",
    "marketing_paths",
]


class CapRuleIO(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """At most ``limit`` marketing messages per ``days`` calendar days (the recipient's timezone) or per
    rolling ``seconds`` (exactly one)."""

    limit: int
    days: int = 0
    seconds: int = 0


class QuietIO(msgspec.Struct, forbid_unknown_fields=True):
    """No marketing from ``start`` to ``end`` (``HH:MM``, the recipient's local time; may span midnight)."""

    start: str
    end: str


class SendPolicyIO(msgspec.Struct, forbid_unknown_fields=True):
    """``PUT``/``GET /v1/marketing/policy``: the app's send-policy settings (docs/MARKETING.md)."""

    control_pct: float = 0.0
    caps: list[CapRuleIO] = []
    quiet: QuietIO | None = None
    negative_hours: int = 24
    default_timezone: str = "UTC"
    official_user: str = "brand"
    official_name: str = "Brand"


class TemplateIn(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /v1/marketing/templates/check``: a template to validate against the app's attributes."""

    template: Template


class TemplateCheck(msgspec.Struct):
    """The variables a valid template uses."""

    variables: list[str]


class PushIn(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /v1/marketing/push``: one message to one profile through the send policy. ``key`` is its
    idempotency key (a repeat is a ``duplicate``); ``topic`` null only with ``transactional``."""

    key: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    pid: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    template: Template
    topic: str | None = "marketing"
    transactional: bool = False


class DecisionOut(msgspec.Struct):
    """The send policy's decision for one recipient: ``outcome`` (``sent``, ``no_consent``, ``control``,
    ``capped``, ``quiet_deferred``, ``duplicate``, ...), the message id when sent, the time a deferred
    send is retried."""

    outcome: str
    mid: str = ""
    retry_at: int = 0
    detail: str = ""


class CampaignOut(msgspec.Struct):
    """A campaign: its definition, state (``scheduled``, ``running``, ``paused``, ``cancelled``, ``done``),
    start, the sender's cursor and the recipients per decision so far."""

    cid: str
    state: str
    start_at: int
    cursor: str
    created: int
    updated: int
    definition: CampaignIn
    counts: dict[str, int] = {}


class CampaignList(msgspec.Struct):
    """The app's campaigns (without counts)."""

    campaigns: list[CampaignOut]


class PreviewIn(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /v1/campaigns/{cid}/preview``: render for profile ``pid`` (its own variant, or ``variant``)."""

    pid: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    variant: str = ""


class PreviewOut(msgspec.Struct):
    """The message body the profile would get (text and the campaign marker); nothing is sent."""

    body: dict[str, Any]


MODELS = [
    SendPolicyIO, TemplateIn, TemplateCheck, PushIn, DecisionOut, CampaignIn, CampaignOut, CampaignList,
    PreviewIn, PreviewOut, CampaignResultsOut,
]  # fmt: skip


def _results_op(op: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The results operation with its two query parameters (``bucket`` is a string enum)."""
    doc = op(
        "The campaign's measured results", 200, CampaignResultsOut, params=("cid",), query=("occurrence",)
    )
    doc["parameters"].append(
        {"name": "bucket", "in": "query", "required": False,
         "schema": {"type": "string", "enum": ["hour", "day"], "default": "hour"}}
    )  # fmt: skip
    return doc


def marketing_paths(op: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """OpenAPI paths of the marketing routes, built with :mod:`openapi`'s ``_op``."""
    control = {
        f"/v1/campaigns/{{cid}}/{action}": {
            "post": op(f"{action.capitalize()} the campaign", 200, CampaignOut, params=("cid",))
        }
        for action in ("pause", "resume", "cancel")
    }
    return {
        "/v1/marketing/policy": {
            "get": op("The app's send-policy settings", 200, SendPolicyIO),
            "put": op("Replace the app's send-policy settings", 200, SendPolicyIO, SendPolicyIO),
        },
        "/v1/marketing/templates/check": {
            "post": op("Validate a template against the app's attributes", 200, TemplateCheck, TemplateIn)
        },
        "/v1/marketing/push": {
            "post": op("Send one message through the send policy", 200, DecisionOut, PushIn)
        },
        "/v1/campaigns": {
            "post": op("Create a campaign (validated whole)", 201, CampaignOut, CampaignIn),
            "get": op("The app's campaigns", 200, CampaignList),
        },
        "/v1/campaigns/{cid}": {"get": op("A campaign with its counts", 200, CampaignOut, params=("cid",))},
        "/v1/campaigns/{cid}/preview": {
            "post": op("Render the campaign for one profile", 200, PreviewOut, PreviewIn, params=("cid",))
        },
        "/v1/campaigns/{cid}/results": {"get": _results_op(op)},
        **control,
    }
