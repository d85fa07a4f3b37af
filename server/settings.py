"""One frozen, typed configuration object, built by the CLI and passed down."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a node needs to know. Nothing in the server reads the environment."""

    host: str = "127.0.0.1"
    port: int = 8700
    #: SQLite file for the embedded default store (used when ``mongo_url`` is unset).
    sqlite_path: str = "parley.db"
    mongo_url: str | None = None
    mongo_database: str = "parley"
    #: Deadline of one store operation, seconds: past it a send fails with ``unavailable``.
    store_timeout: float = 3.0
    #: Redis for fan-out between nodes; unset means the in-process broker (single node).
    redis_url: str | None = None
    node_id: str = field(default_factory=lambda: "n-" + secrets.token_hex(4))
    #: Largest frame accepted from a client, in bytes.
    max_frame: int = 64 * 1024
    #: Seconds between client pings the server asks for.
    heartbeat: int = 25
    #: A connection silent for this many seconds is closed (close code 4009).
    idle_timeout: int = 75
    #: Seconds a new connection has to send ``hello``.
    auth_timeout: float = 10.0
    #: Frames a connection may have queued before it is closed as a slow consumer.
    outbound_queue: int = 2048
    #: Bytes a connection may have queued (behind its socket buffer) before it is closed as a
    #: slow consumer: bounds a client that never reads whatever the frames' sizes.
    outbound_queue_bytes: int = 8 * 1024 * 1024
    token_audience: str = "parley"
    #: Clock leeway for token ``exp``/``nbf``/``iat`` checks, seconds.
    token_leeway: int = 30
    max_group_members: int = 1000
    max_connections_per_user: int = 10
    #: Largest number of messages stored in one store round trip (group commit).
    append_batch_max: int = 256
    #: Seconds given to clients to leave on graceful shutdown.
    shutdown_grace: float = 5.0
    #: Key for the server-level admin endpoints (``POST /v1/apps``); unset disables them.
    admin_key: str | None = None
    #: Allowed ``Origin`` headers for browser WebSocket connections; empty allows any.
    allowed_origins: tuple[str, ...] = ()
    #: Time a user stays "online" in the shared registry without a node refresh, seconds.
    presence_ttl: int = 90
    #: Frames per second a connection may send (token bucket); 0 disables.
    rate_frames: float = 100.0
    rate_frames_burst: float = 200.0
    #: Messages per second a user may send through this node, across devices; 0 disables.
    rate_sends: float = 50.0
    rate_sends_burst: float = 100.0
    #: Bot user that joins every support conversation; "" for none.
    support_bot: str = "parley-bot"
    #: Support conversations one agent handles at once (auto-assignment stops there).
    agent_max_concurrent: int = 5
    #: Seconds between end-to-end broker probes, and how long a probe may take.
    probe_interval: float = 10.0
    probe_timeout: float = 2.0
    #: Typing and draft frames per second a user may send through this node (token bucket); 0 disables.
    rate_ephemeral: float = 10.0
    rate_ephemeral_burst: float = 20.0
    #: Largest draft body (MessagePack bytes); a draft is re-sent whole as it grows and fanned out to all.
    max_draft_bytes: int = 16 * 1024
    #: Longest a user token may live: ``exp`` further than this from now is ``token_invalid``.
    token_max_lifetime: int = 30 * 86400
    #: Bearer token that ``/metrics`` and ``/readyz`` require; unset leaves them open.
    ops_token: str | None = None
    #: ``HOST:PORT`` serving ``/metrics`` and ``/readyz`` (and ``/healthz``) only; the public
    #: port then answers 404 for them. Unset: they are on the public port.
    ops_listen: str | None = None
    #: Seconds a socket has to send a complete HTTP request head (or WebSocket handshake), for
    #: its first request and each next one on a kept-alive connection; past it the socket closes.
    head_timeout: float = 10.0
    #: Users one connection may watch with ``presence_sub`` (each is a broker channel).
    presence_subs_per_connection: int = 1000
    #: Users one user may watch across their connections on this node.
    presence_subs_per_user: int = 2000
    #: Whose presence a user may watch: ``shared`` (users they share a conversation with) or ``all``.
    presence_policy: str = "shared"
    #: Who a conversation's managers may add: ``anyone``, ``contacts`` (users sharing a
    #: conversation), or ``invite`` (contacts at once, anyone else by an invitation to accept).
    add_policy: str = "anyone"
    #: Longest mute the admin API accepts, seconds.
    mute_max_seconds: int = 30 * 86400
    #: Overlap window of a secret rotation when the request names none, seconds: the old
    #: secret is accepted this long after the rotation (at most ``token_max_lifetime``).
    secret_overlap: int = 86400
    #: Seconds a node trusts its cached app secrets: a rotation done on another node takes
    #: effect here within this time (at once on the node that rotated).
    app_cache_ttl: float = 5.0
    #: Largest admin API request body, bytes (413 ``body_too_large``, counted while it streams in).
    admin_max_body: int = 1024 * 1024
    #: Largest knowledge upload (``PUT /v1/knowledge/sources/{source}``: chunks and vectors), bytes.
    admin_max_upload: int = 32 * 1024 * 1024
    #: Admin API requests per second per API key (token bucket, 429 with ``Retry-After``); 0 disables.
    admin_rate: float = 100.0
    admin_rate_burst: float = 200.0
    #: Groups and support conversations one user may create per ``quota_window`` (gateway).
    conv_create_quota: int = 100
    #: Times one user may be added to conversations by others per ``quota_window`` (gateway).
    join_quota: int = 200
    #: The window of ``conv_create_quota`` and ``join_quota``, seconds.
    quota_window: int = 3600
    #: Largest last-message preview in ``conv_list`` (MessagePack bytes); larger ones are cut.
    preview_bytes: int = 1024
    #: Conversations one ``synced`` reply lists; more come in further pages (``next``).
    sync_page_convs: int = 1000
    #: Seconds an HTTP request has, from the end of its head, to send its whole body; 0 disables.
    body_timeout: float = 60.0
    #: Seconds a node screens with its cached sensitive-word lists before reloading them: a
    #: change made on another node applies here within this time (at once on the node that made it).
    word_cache_ttl: float = 5.0
    #: Sensitive-word lists one app may have, and words in one list.
    word_lists_max: int = 20
    words_per_list_max: int = 10_000
    #: Seconds a group invitation (``invite`` add policy) waits to be accepted before it lapses.
    invite_ttl: int = 7 * 86400
    #: Unanswered group invitations one user may have; more are refused (``limit_exceeded``).
    invites_pending_max: int = 100
    #: Seconds a web-console login lasts (then the console asks to log in again).
    console_session_ttl: int = 12 * 3600
    #: Seconds a console agent's WebSocket token lives (the page fetches a new one to reconnect).
    console_ws_token_ttl: int = 600
    #: Console login attempts per minute, per account and per client address (429 past it).
    console_login_rate: int = 10
    #: Events one admin ingest request may carry (413 ``batch_too_large`` past it; at most 1000).
    event_batch_max: int = 1000
    #: Properties one event may have, and the largest string property value (UTF-8 bytes).
    event_props_max: int = 50
    event_prop_bytes: int = 1024
    #: Oldest event time accepted, seconds before now (``event_too_old``).
    event_max_age: int = 30 * 86400
    #: How far ahead of the server's clock an event time may be, seconds (``event_in_future``).
    event_clock_skew: int = 300
    #: Days events are kept when the app's schema states no ``retention_days``.
    event_retention_days: int = 365
    #: Seconds between the audience passes of a node: retention sweep, RFM, lifecycle, rule tags.
    audience_pass_interval: float = 300.0
    #: Seconds between a node's recoveries of events left pending (not applied to their profiles,
    #: e.g. by a node killed after answering ``track``); also their grace period. 0 disables.
    event_recovery_interval: float = 60.0
    #: One ID merge guard when the app's schema sets none: an identify may merge at most this many
    #: profiles, and an identifier that already matched this many merges merges no more (``merge_guard``).
    audience_merge_guard: int = 5
    #: Attributes one app's schema may declare; longest string attribute (characters); longest string list.
    audience_attributes_max: int = 200
    audience_string_max: int = 1024
    audience_list_max: int = 100
    #: Time zone of profiles whose SDK, attributes and app schema state none (IANA name).
    audience_timezone: str = "UTC"
    #: Segments: deepest and/or/not nesting of a rule, longest window (days), largest preview sample,
    #: saved segments per app (``segment_invalid`` / ``limit_exceeded``).
    segment_max_depth: int = 8
    segment_max_window_days: int = 3660
    segment_sample_max: int = 100
    segments_max: int = 500
    #: Seconds between re-evaluations of the time-relative dynamic segments (``segment_enter`` /
    #: ``segment_leave`` events as time passes); 0 disables. Changes caused by events and profile
    #: changes are checked ``segment_touch_delay`` seconds after them instead.
    segment_refresh_interval: float = 60.0
    segment_touch_delay: float = 1.0
    #: Seconds between a node's looks for due campaigns to send (a campaign is sent by one node at a
    #: time, under a lease); 0 disables sending on this node.
    campaign_interval: float = 1.0
    #: Seconds between a node's polls for due journey timers (runs are leased, so nodes share
    #: them); 0 disables firing timers on this node.
    journey_interval: float = 1.0
    #: Seconds a node holds a journey run it took (a node killed mid-run: another takes it after this).
    journey_lease: float = 30.0
    #: Seconds between a node's conversion catch-up passes (also one at start): goal events stored but
    #: not credited (a node died in between) are credited from a durable per-app watermark, one node
    #: per app at a time (leased); 0 disables them on this node.
    conversion_catchup_interval: float = 60.0
    #: Largest knowledge file an admin may upload from the console, bytes (413 ``body_too_large``).
    knowledge_upload_max_bytes: int = 5 * 1024 * 1024
