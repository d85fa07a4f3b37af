"""``parley serve`` options for the abuse limits: one ``--name`` / ``PARLEY_NAME`` per ``Settings`` field.

Generated from the field's default (type and shown default), so adding a limit is one line
here and the option cannot disagree with ``Settings``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import click

from parley.server.settings import Settings

__all__ = ["LIMIT_OPTIONS", "limit_options"]

#: Settings field → help text. Each becomes ``--field-name`` with env ``PARLEY_FIELD_NAME``.
LIMIT_OPTIONS: dict[str, str] = {
    "rate_ephemeral": "Typing/draft frames per second per user per node; 0 disables.",
    "rate_ephemeral_burst": "Burst of typing/draft frames per user.",
    "max_draft_bytes": "Largest draft body in bytes.",
    "token_max_lifetime": "Longest a user token may live (exp from now), seconds.",
    "head_timeout": "Seconds a socket has to send a complete request head; 0 disables.",
    "presence_subs_per_connection": "Users one connection may watch (presence_sub).",
    "presence_subs_per_user": "Users one user may watch across connections on this node.",
    "presence_policy": "Whose presence may be watched: shared | all.",
    "mute_max_seconds": "Longest mute the admin API accepts, seconds.",
    "secret_overlap": "Default overlap of a token-secret rotation (old secret still accepted), seconds.",
    "app_cache_ttl": "Seconds a node trusts its cached app secrets (rotations elsewhere reach it within this).",
    "admin_max_body": "Largest admin API request body in bytes (413 past it).",
    "admin_max_upload": "Largest knowledge upload body in bytes (413 past it).",
    "admin_rate": "Admin API requests per second per API key (429 past it); 0 disables.",
    "admin_rate_burst": "Burst of admin API requests per API key.",
    "add_policy": "Who managers may add to groups: anyone | contacts | invite (must accept).",
    "conv_create_quota": "Groups/support conversations a user may create per quota window.",
    "join_quota": "Times a user may be added to conversations per quota window.",
    "quota_window": "Window of the creation and being-added quotas, seconds.",
    "preview_bytes": "Largest last-message preview in conv_list, bytes.",
    "sync_page_convs": "Conversations one synced reply lists (then next page).",
    "body_timeout": "Seconds an HTTP request has to send its body after its head; 0 disables.",
    "word_cache_ttl": "Seconds a node screens with its cached sensitive-word lists before reloading them.",
    "word_lists_max": "Sensitive-word lists one app may have.",
    "words_per_list_max": "Words in one sensitive-word list.",
    "invite_ttl": "Seconds a group invitation waits to be accepted before it lapses.",
    "invites_pending_max": "Unanswered group invitations one user may have.",
    "console_session_ttl": "Seconds a web-console login lasts.",
    "console_ws_token_ttl": "Seconds a console agent's WebSocket token lives.",
    "console_login_rate": "Console login attempts per minute per account and per client address.",
    "event_batch_max": "Events one admin ingest request may carry (at most 1000).",
    "event_props_max": "Properties one tracked event may have.",
    "event_prop_bytes": "Largest string property of an event, UTF-8 bytes.",
    "event_max_age": "Oldest event time accepted, seconds before now.",
    "event_clock_skew": "How far ahead of the server clock an event time may be, seconds.",
    "event_retention_days": "Days events are kept when the app's schema sets no retention_days.",
    "audience_merge_guard": "Most profiles one identify may merge, and merges one identifier may match (schema may override).",
    "audience_attributes_max": "Attributes one app's audience schema may declare.",
    "audience_string_max": "Longest string profile attribute, characters.",
    "audience_list_max": "Most elements of a string-list profile attribute.",
    "audience_timezone": "IANA time zone of profiles with none from the SDK, attributes or app schema.",
    "audience_pass_interval": "Seconds between a node's audience passes (retention, RFM, lifecycle, rule tags).",
    "event_recovery_interval": "Seconds between recoveries of stored events left unapplied by a crashed node (also their grace); 0 disables.",
    "segment_max_depth": "Deepest and/or/not nesting of a segment rule (segment_invalid).",
    "segment_max_window_days": "Longest window a segment rule may use, days (segment_invalid).",
    "segment_sample_max": "Largest sample of a segment preview.",
    "segments_max": "Saved segments per app (limit_exceeded).",
    "segment_refresh_interval": "Seconds between re-evaluations of time-relative dynamic segments; 0 disables.",
    "segment_touch_delay": "Seconds after a profile change before its dynamic segments are re-checked.",
    "campaign_interval": "Seconds between a node's looks for due campaigns to send; 0 disables sending here.",
    "journey_interval": "Seconds between a node's polls for due journey timers; 0 disables them here.",
    "journey_lease": "Seconds a node holds a journey run it took; a killed node's runs move on after it.",
    "conversion_catchup_interval": "Seconds between a node's conversion catch-up passes; 0 disables them here.",
    "knowledge_upload_max_bytes": "Largest knowledge file uploaded from the console, bytes (413 past it).",
}


def limit_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add one click option per :data:`LIMIT_OPTIONS` entry; values arrive as keyword arguments."""
    defaults = {fld.name: fld.default for fld in dataclasses.fields(Settings)}
    for name, help_text in reversed(LIMIT_OPTIONS.items()):
        default = defaults[name]
        f = click.option(
            "--" + name.replace("_", "-"),
            name,
            envvar="PARLEY_" + name.upper(),
            default=default,
            show_default=True,
            type=type(default),
            help=help_text,
        )(f)
    return f
