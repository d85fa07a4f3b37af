"""Behaviour tags by rules: "viewed a product in category X at least 3 times in 7 days" → ``interest:X``.

Pure: no I/O. A rule names one event, optional property conditions (``where``, equality),
an optional property to group by (``group_by``, whose value fills the tag template), a minimum
count within a sliding window, the tag to give, and whether the tag goes again when the rule
no longer holds (``remove``). The tag is written with source ``rule`` and its provenance: the
rule id and the most recent events that made it hold (``evidence``), and — for a removable
tag — ``expires`` at the moment the window would leave fewer than ``min_count`` events, so the
tag lapses on time even before a later pass removes it (with a history line).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from parley.server.events_scores import SchemaError
from parley.server.models import TagRecord

__all__ = [
    "BehaviourRule",
    "RuleHit",
    "RuleInput",
    "evaluate_rule",
    "parse_rules",
    "plan_rule_tags",
    "rules_for",
]

_DAY_MS = 86_400_000
#: Event ids quoted in a tag's evidence (the most recent ones; the count says how many held).
EVIDENCE_EVENTS = 10
RULES_MAX = 100


@dataclass(frozen=True, slots=True)
class BehaviourRule:
    """One rule of an app (see the module docstring); ``tag`` holds ``{group_by}`` when grouped."""

    id: str
    event: str
    tag: str
    min_count: int = 1
    window_days: int = 7
    group_by: str = ""
    where: dict[str, str | float | bool] = field(default_factory=dict)
    remove: bool = True
    confidence: float = 1.0

    @property
    def window_ms(self) -> int:
        """The sliding window, ms."""
        return self.window_days * _DAY_MS

    def evidence_prefix(self) -> str:
        """How this rule's tags' evidence starts (it tells them from other rules' tags)."""
        return f"rule:{self.id} "


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A tag the rule gives now: ``count`` events in the window, the latest ``eids`` of them,
    and ``lapses``: when the window will hold fewer than ``min_count`` of them (ms)."""

    tag: str
    count: int
    eids: tuple[str, ...]
    lapses: int


def _fail(path: str, message: str) -> SchemaError:
    return SchemaError(path, message)


def _int(raw: Mapping[str, Any], key: str, default: int, low: int, high: int, path: str) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _fail(f"{path}.{key}", f"an integer {low} .. {high}")
    return value


def _rule(raw: object, path: str, declared: Mapping[str, Mapping[str, str]]) -> BehaviourRule:
    if not isinstance(raw, Mapping):
        raise _fail(path, "an object")
    rid, event, tag = raw.get("id"), raw.get("event"), raw.get("tag")
    if not isinstance(rid, str) or not rid.isidentifier():
        raise _fail(f"{path}.id", "an identifier")
    if event not in declared:
        raise _fail(f"{path}.event", "a declared event")
    props = declared[str(event)]
    group_by = raw.get("group_by", "")
    if group_by and props.get(str(group_by)) != "string":
        raise _fail(f"{path}.group_by", "a declared string property of the event")
    if not isinstance(tag, str) or not tag or len(tag) > 64:
        raise _fail(f"{path}.tag", "a tag name of 1..64 characters")
    holes = tag.count("{")
    if (group_by and (holes != 1 or "{" + str(group_by) + "}" not in tag)) or (not group_by and holes):
        raise _fail(f"{path}.tag", "holds '{" + str(group_by) + "}' once when grouped, no braces otherwise")
    where = raw.get("where", {})
    if not isinstance(where, Mapping):
        raise _fail(f"{path}.where", "an object of property -> value")
    for key, value in where.items():
        kind = props.get(key)
        ok = {"string": str, "bool": bool, "number": int | float}.get(kind or "")
        if ok is None or not isinstance(value, ok) or (kind == "number" and isinstance(value, bool)):
            raise _fail(
                f"{path}.where.{key}", "a declared string, number or bool property and a value of its type"
            )
    confidence = raw.get("confidence", 1.0)
    if not isinstance(confidence, int | float) or isinstance(confidence, bool) or not 0 < confidence <= 1:
        raise _fail(f"{path}.confidence", "a number in (0, 1]")
    remove = raw.get("remove", True)
    if not isinstance(remove, bool):
        raise _fail(f"{path}.remove", "true or false")
    return BehaviourRule(
        id=rid,
        event=str(event),
        tag=tag,
        min_count=_int(raw, "min_count", 1, 1, 1000, path),
        window_days=_int(raw, "window_days", 7, 1, 365, path),
        group_by=str(group_by),
        where=dict(where),
        remove=remove,
        confidence=float(confidence),
    )


def parse_rules(raw: object, declared: Mapping[str, Mapping[str, str]]) -> tuple[BehaviourRule, ...]:
    """The ``rules`` list of a schema document, checked against the declared events."""
    if not isinstance(raw, list) or len(raw) > RULES_MAX:
        raise _fail("rules", f"a list of at most {RULES_MAX} rules")
    rules = tuple(_rule(r, f"rules.{i}", declared) for i, r in enumerate(raw))
    if len({r.id for r in rules}) != len(rules):
        raise _fail("rules", "rule ids must be unique")
    return rules


class RuleInput(Protocol):
    """What a rule reads of an event (:class:`~parley.server.events_models.Event` has it)."""

    @property
    def eid(self) -> str:
        """The event id."""

    @property
    def name(self) -> str:
        """The event name."""

    @property
    def ts(self) -> int:
        """When it happened, ms."""

    @property
    def props(self) -> dict[str, Any]:
        """Its properties."""


def _same(value: object, wanted: object) -> bool:
    """Equal, and a bool only equals a bool (``True == 1`` in Python, not in a rule)."""
    return isinstance(value, bool) == isinstance(wanted, bool) and value == wanted


def rule_tag(rule: BehaviourRule, e: RuleInput) -> str | None:
    """The tag event ``e`` counts toward under ``rule`` (whatever its time); None if it does not
    count: another event, a ``where`` property that differs, no string ``group_by`` value."""
    if e.name != rule.event or not all(_same(e.props.get(k), v) for k, v in rule.where.items()):
        return None
    if not rule.group_by:
        return rule.tag
    value = e.props.get(rule.group_by)
    if not isinstance(value, str) or not value:
        return None
    return rule.tag.replace("{" + rule.group_by + "}", value)


def evaluate_rule(rule: BehaviourRule, events: Iterable[RuleInput], now: int) -> dict[str, RuleHit]:
    """The tags ``rule`` gives at ``now`` over ``events`` (any order; others ignored), by tag.

    An event counts if it is the rule's event, ``now - window <= ts <= now``, every ``where``
    property equals, and (grouped) its ``group_by`` property is a non-empty string.
    """
    groups: dict[str, list[tuple[int, str]]] = {}
    since = now - rule.window_ms
    for e in events:
        tag = rule_tag(rule, e)
        if tag is not None and since <= e.ts <= now:
            groups.setdefault(tag, []).append((e.ts, e.eid))
    hits: dict[str, RuleHit] = {}
    for tag, found in groups.items():
        if len(found) < rule.min_count:
            continue
        found.sort()
        # the window drops events oldest first: it holds until the min_count-th latest leaves it
        lapses = found[-rule.min_count][0] + rule.window_ms
        eids = tuple(eid for _, eid in found[-EVIDENCE_EVENTS:])
        hits[tag] = RuleHit(tag, len(found), eids, lapses)
    return hits


def plan_rule_tags(
    rule: BehaviourRule,
    hits: Mapping[str, RuleHit],
    current: Mapping[str, TagRecord],
    now: int,
    scope: Collection[str] | None = None,
) -> tuple[list[TagRecord], list[str]]:
    """What to change on a profile holding ``current`` tags: tags to set (new, or kept alive
    longer by a newer event) and tags to remove (this rule's, no longer holding, if it says so;
    only among ``scope`` when given: the tags whose events were evaluated).

    A tag of the same name from another source (an agent, an import) is never touched.
    """
    prefix = rule.evidence_prefix()
    to_set: list[TagRecord] = []
    for tag, hit in sorted(hits.items()):
        held = current.get(tag)
        if held is not None and (held.source != "rule" or not held.evidence.startswith(prefix)):
            continue
        expires = hit.lapses if rule.remove else 0
        # unchanged, or an older event than the one that set it: no new history line
        if held is not None and (held.expires == expires or 0 < expires < held.expires):
            continue
        evidence = f"{prefix}{hit.count} {rule.event} in {rule.window_days}d: {','.join(hit.eids)}"
        to_set.append(TagRecord(tag, "rule", rule.confidence, evidence, now, expires))
    to_remove: list[str] = []
    if rule.remove:
        to_remove = sorted(
            name
            for name, held in current.items()
            if held.source == "rule"
            and held.evidence.startswith(prefix)
            and name not in hits
            and (scope is None or name in scope)
        )
    return to_set, to_remove


def rules_for(rules: Sequence[BehaviourRule], event: str) -> list[BehaviourRule]:
    """The rules that read ``event``."""
    return [r for r in rules if r.event == event]
