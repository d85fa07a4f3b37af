"""MongoDB documents of the audience collections: a profile <-> one ``aud_profiles`` document.

Layout (the agreed one, see docs/AUDIENCE.md): ``{_id: "<app>/<pid>", app, pid, created, updated,
timezone, language, merged_into, rev, attrs: {key: value}, tags: [{name, source, confidence,
evidence, ts, expires}], consent: {topic: {state, ts}}, computed: {key: value, counts: {event: n}},
ids: [{kind, value}], chat: {attributes, counters}, merged_from, applied: [eid]}`` (``applied``:
the latest events applied, see ``APPLIED_KEEP``). Map keys are escaped (``.`` and ``$`` may
not appear in field paths).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING, IndexModel

from parley.proto.plain import repair
from parley.server.audience_models import AudienceProfile, ConsentState, Identifier, StoredValue
from parley.server.models import TagRecord

__all__ = [
    "AUDIENCE_INDEXES",
    "CONSENT_LEDGER",
    "IDENTIFIERS",
    "LOCKS",
    "MERGES",
    "PENDING",
    "PROFILES",
    "SCHEMAS",
    "TAG_HISTORY",
    "escape",
    "from_profile",
    "profile_id",
    "to_profile",
    "unescape",
]

PROFILES = "aud_profiles"
IDENTIFIERS = "aud_identifiers"
TAG_HISTORY = "aud_tag_history"
CONSENT_LEDGER = "aud_consent_ledger"
MERGES = "aud_merges"
SCHEMAS = "aud_schema"
LOCKS = "aud_locks"
PENDING = "aud_merge_pending"
_COUNT = "count:"


def _index(*fields: str, name: str) -> IndexModel:
    return IndexModel([(f, ASCENDING) for f in fields], name=name)


AUDIENCE_INDEXES: dict[str, list[IndexModel]] = {
    PROFILES: [
        _index("app", "tags.name", "tags.confidence", name="app_tag"),
        _index("app", "computed.lifecycle", name="app_lifecycle"),
        _index("app", "computed.rfm_r", name="app_rfm_r"),
        _index("app", "computed.rfm_f", name="app_rfm_f"),
        _index("app", "computed.rfm_m", name="app_rfm_m"),
        _index("app", "ids.kind", name="app_id_kind"),
    ],
    IDENTIFIERS: [_index("app", "pid", name="app_pid")],
    PENDING: [_index("ts", name="ts")],
    TAG_HISTORY: [_index("app", "pid", "name", "seq", name="app_pid_name")],
    CONSENT_LEDGER: [_index("app", "pid", "topic", "ts", name="app_pid_topic")],
    MERGES: [
        _index("app", "winner", "ts", name="app_winner"),
        _index("app", "loser", "ts", name="app_loser"),
        _index("app", "matches", "undone", name="app_matches"),
    ],
}


def escape(name: str) -> str:
    """A map key safe as a field name (``%``, ``.`` and ``$`` percent-encoded)."""
    return name.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def unescape(key: str) -> str:
    """The inverse of :func:`escape`."""
    return key.replace("%24", "$").replace("%2E", ".").replace("%25", "%")


def profile_id(app: str, pid: str) -> str:
    """The ``_id`` of profile ``(app, pid)``."""
    return f"{app}/{pid}"


def _stored(value: Any) -> StoredValue:
    if isinstance(value, list | tuple):
        return tuple(sorted(str(v) for v in value))
    return value if isinstance(value, str) else float(value)


def from_profile(p: AudienceProfile) -> dict[str, Any]:
    """The ``aud_profiles`` document of ``p``."""
    computed: dict[str, Any] = {}
    counts: dict[str, float] = {}
    for key, value in p.computed.items():
        if key.startswith(_COUNT):
            counts[escape(key[len(_COUNT) :])] = float(value)
        else:
            computed[escape(key)] = value
    if counts:
        computed["counts"] = counts
    return {
        "_id": profile_id(p.app, p.pid), "app": p.app, "pid": p.pid, "created": p.created,
        "updated": p.updated, "timezone": p.timezone, "language": p.language, "merged_into": p.merged_into,
        "rev": p.rev,
        "attrs": {escape(k): (sorted(set(v)) if isinstance(v, tuple) else v) for k, v in p.attrs.items()},
        "tags": [
            {"name": t.name, "source": t.source, "confidence": t.confidence, "evidence": t.evidence, "ts": t.ts,
             "expires": t.expires} for t in sorted(p.tags.values(), key=lambda t: t.name)
        ],
        "consent": {escape(k): {"state": c.state, "ts": c.ts} for k, c in p.consent.items()},
        "computed": computed,
        "ids": [{"kind": i.kind, "value": i.value} for i in p.ids],
        "chat": {
            "attributes": {escape(k): v for k, v in p.chat_attributes.items()},
            "counters": {escape(k): v for k, v in p.chat_counters.items()},
        },
        "merged_from": list(p.merged_from),
        "applied": list(p.applied),
    }  # fmt: skip


def to_profile(d: Mapping[str, Any]) -> AudienceProfile:
    """The profile of an ``aud_profiles`` document (the inverse of :func:`from_profile`)."""
    computed: dict[str, float | str] = {}
    for key, value in (d.get("computed") or {}).items():
        if key == "counts":
            computed.update({_COUNT + unescape(k): float(n) for k, n in value.items()})
        else:
            computed[unescape(key)] = value if isinstance(value, str) else float(value)
    chat = d.get("chat") or {}
    return AudienceProfile(
        app=d["app"], pid=d["pid"], created=int(d["created"]), updated=int(d.get("updated", 0)),
        timezone=d.get("timezone", ""), language=d.get("language", ""), merged_into=d.get("merged_into", ""),
        rev=int(d.get("rev", 0)),
        attrs={unescape(k): _stored(v) for k, v in (d.get("attrs") or {}).items()},
        tags={
            t["name"]: TagRecord(t["name"], t["source"], float(t.get("confidence", 1.0)), t.get("evidence", ""),
                                 int(t.get("ts", 0)), int(t.get("expires", 0))) for t in d.get("tags") or ()
        },
        consent={unescape(k): ConsentState(c["state"], int(c["ts"])) for k, c in (d.get("consent") or {}).items()},
        computed=computed,
        ids=tuple(Identifier(i["kind"], i["value"]) for i in d.get("ids") or ()),
        chat_attributes=repair({unescape(k): v for k, v in (chat.get("attributes") or {}).items()}),
        chat_counters={unescape(k): int(v) for k, v in (chat.get("counters") or {}).items()},
        merged_from=tuple(d.get("merged_from") or ()),
        applied=tuple(d.get("applied") or ()),
    )  # fmt: skip
