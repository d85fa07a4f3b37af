"""A deterministic fixture population for the segment tests, written in the agreed storage layout.

Profiles, attributes, tags, consent, identifiers, computed values, events and tickets of two
apps, plus merged (dead) profiles that no segment may ever contain. Loaded into SQLite with
plain INSERTs on the store's worker and into MongoDB as documents (docs/AUDIENCE.md layout),
so the same people exist in both stores.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

NOW = 1_780_000_000_000
HOUR = 3_600_000
DAY = 24 * HOUR
ATTR_TYPES = {
    "city": "string",
    "age": "number",
    "vip": "bool",
    "signup": "datetime",
    "interests": "string_list",
    "we ird": "string",
}


@dataclass
class Person:
    """Everything stored about one profile."""

    app: str
    pid: str
    merged_into: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    #: name -> (source, confidence, ts, expires)
    tags: dict[str, tuple[str, float, int, int]] = field(default_factory=dict)
    consent: dict[str, str] = field(default_factory=dict)
    ids: list[tuple[str, str]] = field(default_factory=list)
    computed: dict[str, float | str] = field(default_factory=dict)
    #: (eid, name, ts, props)
    events: list[tuple[str, str, int, dict[str, Any]]] = field(default_factory=list)
    #: (conv, state, score) of tickets whose customer is this person's ``user`` id
    tickets: list[tuple[str, str, int]] = field(default_factory=list)


def generate(seed: int = 7, n: int = 48) -> list[Person]:
    """``n`` people in ``app1``, a few in ``app2`` and two merged profiles, from ``seed``."""
    rnd = random.Random(seed)
    people = []
    for i in range(n + 6):
        app = "app1" if i < n else "app2"
        p = Person(app, f"p_{i:03d}")
        if i in (5, 17):
            p.merged_into = "p_000"
        _fill(rnd, p, i)
        people.append(p)
    return people


def _fill(rnd: random.Random, p: Person, i: int) -> None:
    pick = rnd.choice
    if rnd.random() < 0.8:
        p.attrs["city"] = pick(["Shanghai", "Beijing", "Shenzhen", "Shantou"])
    if rnd.random() < 0.8:
        p.attrs["age"] = pick([18, 25, 30, 41.5, 60, 33])
    if rnd.random() < 0.7:
        p.attrs["vip"] = pick([True, False])
    if rnd.random() < 0.7:
        p.attrs["signup"] = NOW - pick([3, 40, 400]) * DAY
    interests = sorted({pick(["shoes", "bags", "hats"]) for _ in range(rnd.randint(0, 2))})
    if interests:
        p.attrs["interests"] = interests
    if rnd.random() < 0.3:
        p.attrs["we ird"] = pick(["Sh", "x"])
    for name in ("interest:shoes", "interest:bags", "vip", "sentiment:negative", "sentiment:positive"):
        if rnd.random() < 0.45:
            expires = pick([0, 0, NOW - 1, NOW + DAY])
            p.tags[name] = (pick(["bot", "rule", "agent"]), pick([0.5, 0.7, 0.9]), NOW - pick([1, 20, 60, 24 * 40]) * HOUR, expires)  # fmt: skip
    for topic in ("marketing", "marketing:sms"):
        if rnd.random() < 0.6:
            p.consent[topic] = pick(["granted", "denied", "withdrawn"])
    if rnd.random() < 0.9:
        p.ids.append(("user", f"u_{p.app}_{i}"))
    for kind in ("phone", "email", "device"):
        if rnd.random() < 0.4:
            p.ids.append((kind, f"{kind}-{p.app}-{i}"))
    for dim in "rfm":
        if rnd.random() < 0.7:
            p.computed[f"rfm_{dim}"] = float(rnd.randint(1, 5))
    if rnd.random() < 0.7:
        p.computed["lifecycle"] = pick(["new", "active", "at_risk", "churned", "won_back"])
    for ev in ("view", "purchase"):
        if rnd.random() < 0.7:
            p.computed[f"count:{ev}"] = float(rnd.randint(0, 5))
    for k in range(rnd.randint(0, 6)):
        props: dict[str, Any] = pick([{"amount": 10}, {"amount": 2.5}, {"amount": "7"}, {"amount": True}, {}])
        p.events.append((f"e_{p.pid}_{k}", pick(["view", "purchase"]), NOW - pick([1, 30, 72, 240, 960, 2400]) * HOUR, props))  # fmt: skip
    if any(k == "user" for k, _ in p.ids):
        for k in range(rnd.randint(0, 2)):
            p.tickets.append(
                (f"c_{p.pid}_{k}", pick(["bot", "agent", "resolved", "resolved"]), rnd.randint(0, 5))
            )


def user_of(p: Person) -> str | None:
    """The person's chat user id (their ``user`` identifier)."""
    return next((v for k, v in p.ids if k == "user"), None)


def load_sqlite(db: Any, people: list[Person]) -> None:
    """INSERT everyone (runs on the store's worker thread)."""
    for p in people:
        key = (p.app, p.pid)
        db.execute(
            "INSERT INTO aud_profiles (app, pid, created, updated, merged_into) VALUES (?, ?, ?, ?, ?)",
            (*key, NOW - 500 * DAY, NOW, p.merged_into),
        )
        for k, v in p.attrs.items():
            if isinstance(v, list):
                rows = [(*key, k, None, x, 1) for x in v]
            else:
                rows = [(*key, k, None, v, 0) if isinstance(v, str) else (*key, k, float(v), None, 0)]
            db.executemany(
                "INSERT INTO aud_attrs (app, pid, key, num, txt, lst) VALUES (?, ?, ?, ?, ?, ?)", rows
            )
        for name, (source, conf, ts, expires) in p.tags.items():
            db.execute(
                "INSERT INTO aud_tags VALUES (?, ?, ?, ?, ?, '', ?, ?)",
                (*key, name, source, conf, ts, expires),
            )
        for topic, state in p.consent.items():
            db.execute("INSERT INTO aud_consent VALUES (?, ?, ?, ?, ?)", (*key, topic, state, NOW - DAY))
        for kind, value in p.ids:
            db.execute("INSERT INTO aud_identifiers VALUES (?, ?, ?, ?, ?)", (p.app, kind, value, p.pid, NOW))
        for k, v in p.computed.items():
            row = (*key, k, None, v) if isinstance(v, str) else (*key, k, float(v), None)
            db.execute("INSERT INTO aud_computed VALUES (?, ?, ?, ?, ?)", row)
        for eid, name, ts, props in p.events:
            db.execute(
                "INSERT INTO aud_events (app, eid, pid, name, ts, props, received) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (p.app, eid, p.pid, name, ts, json.dumps(props), ts),
            )
        for conv, state, score in p.tickets:
            db.execute(
                "INSERT INTO tickets (app, conv, customer, state, agent, reason, summary, notes_conv, score, "
                "created, updated) VALUES (?, ?, ?, ?, '', '', '', '', ?, ?, ?)",
                (p.app, conv, user_of(p), state, score, NOW, NOW),
            )
    db.commit()


def _esc(name: str) -> str:
    return name.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def mongo_docs(people: list[Person]) -> dict[str, list[dict[str, Any]]]:
    """The documents of every collection, by collection."""
    out: dict[str, list[dict[str, Any]]] = {
        "aud_profiles": [],
        "aud_events": [],
        "tickets": [],
        "aud_identifiers": [],
    }
    for p in people:
        computed: dict[str, Any] = {k: v for k, v in p.computed.items() if not k.startswith("count:")}
        counts = {_esc(k[6:]): v for k, v in p.computed.items() if k.startswith("count:")}
        if counts:
            computed["counts"] = counts
        out["aud_profiles"].append({
            "_id": f"{p.app}/{p.pid}", "app": p.app, "pid": p.pid, "created": NOW - 500 * DAY, "updated": NOW,
            "timezone": "", "language": "", "merged_into": p.merged_into, "rev": 1,
            "attrs": {_esc(k): v for k, v in p.attrs.items()},
            "tags": [{"name": n, "source": s, "confidence": c, "evidence": "", "ts": ts, "expires": e}
                     for n, (s, c, ts, e) in sorted(p.tags.items())],
            "consent": {_esc(t): {"state": s, "ts": NOW - DAY} for t, s in p.consent.items()},
            "computed": computed, "ids": [{"kind": k, "value": v} for k, v in p.ids],
        })  # fmt: skip
        out["aud_identifiers"] += [
            {"_id": f"{p.app}/{k}/{v}", "app": p.app, "kind": k, "value": v, "pid": p.pid, "ts": NOW}
            for k, v in p.ids
        ]
        out["aud_events"] += [
            {
                "_id": f"{p.app}/{eid}",
                "app": p.app,
                "pid": p.pid,
                "name": name,
                "ts": ts,
                "props": props,
                "received": ts,
            }
            for eid, name, ts, props in p.events
        ]
        out["tickets"] += [
            {"app": p.app, "conv": conv, "customer": user_of(p), "state": state, "agent": "", "reason": "",
             "summary": "", "notes_conv": "", "score": score, "created": NOW, "updated": NOW}
            for conv, state, score in p.tickets
        ]  # fmt: skip
    return out


#: The agreed audience tables (docs/AUDIENCE.md), created only if the store has not made them:
#: lets these tests run before the profile adapter's schema is on the branch (then a no-op).
LAYOUT_DDL = """
CREATE TABLE IF NOT EXISTS aud_profiles (
    app TEXT NOT NULL, pid TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,
    timezone TEXT NOT NULL DEFAULT '', language TEXT NOT NULL DEFAULT '', merged_into TEXT NOT NULL DEFAULT '',
    rev INTEGER NOT NULL DEFAULT 0, chat BLOB, PRIMARY KEY (app, pid));
CREATE TABLE IF NOT EXISTS aud_attrs (app TEXT NOT NULL, pid TEXT NOT NULL, key TEXT NOT NULL, num REAL, txt TEXT,
    lst INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (app, pid, key, txt));
CREATE INDEX IF NOT EXISTS aud_attrs_num ON aud_attrs (app, key, num);
CREATE INDEX IF NOT EXISTS aud_attrs_txt ON aud_attrs (app, key, txt);
CREATE TABLE IF NOT EXISTS aud_tags (app TEXT NOT NULL, pid TEXT NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL,
    confidence REAL NOT NULL, evidence TEXT NOT NULL, ts INTEGER NOT NULL, expires INTEGER NOT NULL,
    PRIMARY KEY (app, pid, name));
CREATE INDEX IF NOT EXISTS aud_tags_name ON aud_tags (app, name, confidence);
CREATE TABLE IF NOT EXISTS aud_consent (app TEXT NOT NULL, pid TEXT NOT NULL, topic TEXT NOT NULL,
    state TEXT NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY (app, pid, topic));
CREATE INDEX IF NOT EXISTS aud_consent_topic ON aud_consent (app, topic, state);
CREATE TABLE IF NOT EXISTS aud_identifiers (app TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
    pid TEXT NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY (app, kind, value));
CREATE INDEX IF NOT EXISTS aud_identifiers_pid ON aud_identifiers (app, pid);
CREATE TABLE IF NOT EXISTS aud_computed (app TEXT NOT NULL, pid TEXT NOT NULL, key TEXT NOT NULL, num REAL,
    txt TEXT, PRIMARY KEY (app, pid, key));
CREATE INDEX IF NOT EXISTS aud_computed_num ON aud_computed (app, key, num);
CREATE INDEX IF NOT EXISTS aud_computed_txt ON aud_computed (app, key, txt);
"""
