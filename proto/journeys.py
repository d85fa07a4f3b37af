"""Triggered journeys: the definition format and its validation (pure; shared with SDK and console).

A journey starts for a profile when a trigger event arrives (a tracked event, ``segment_enter``,
``lifecycle_changed`` ...) and its entry rule allows it, then walks its steps, first to last
reachable::

    {"name": "cart", "topic": "marketing",
     "trigger": {"event": "add_to_cart", "where": {}},
     "entry": {"once": "key", "key": "cart_id"},          # or "profile", or "every" + every_days
     "goal": "purchase",                                   # this event ends the run at any step
     "steps": [
       {"id": "w", "type": "wait_event", "event": "purchase", "key": "cart_id",
        "timeout_s": 1800, "next": "done", "timeout_next": "coupon"},
       {"id": "coupon", "type": "send", "template": {...}, "next": "done"},
       {"id": "done", "type": "exit"}]}

Step types: ``wait`` (``seconds``, or ``until_local`` ``"HH:MM"`` in the profile's timezone),
``wait_event`` (an event whose property ``key`` equals the run's key; ``timeout_s``; ``next`` on
the event, ``timeout_next`` otherwise), ``branch`` (``cases`` tried in order, each one condition
among ``attribute``+``equals``, ``tag``, ``segment``, ``event`` (the profile had that event since
the run started: a reply, a click), ``arm`` (a stable hash split, percent); then ``default``),
``send`` (a template, through the send policy), ``update`` (``add_tags``, ``remove_tags``,
``set`` attributes), ``handover`` (to an agent) and ``exit``. A step without ``next`` ends the run.

:func:`parse_journey` refuses, with nothing stored: a malformed document or a bad wait
(``journey_invalid``), a cycle (``journey_cycle``: each step runs at most once per run, which is
what makes the step log unique per run and step), a step no path reaches
(``journey_unreachable``) and template variables the app does not know
(``template_variable_unknown``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any, Literal

import msgspec

from parley.proto.errors import ErrorCode, ProtocolError
from parley.proto.templates import Template, validate

__all__ = [
    "MAX_STEPS",
    "MAX_WAIT_S",
    "Branch",
    "Case",
    "Entry",
    "Exit",
    "Handover",
    "Journey",
    "Send",
    "Step",
    "Trigger",
    "Update",
    "Wait",
    "WaitEvent",
    "load_journey",
    "parse_journey",
    "successors",
    "to_json",
]

#: Most steps one journey has.
MAX_STEPS = 100
#: Longest wait or timeout, seconds (a year).
MAX_WAIT_S = 366 * 86400
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class Trigger(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The event that starts a run; ``where``: property values it must have (equality)."""

    event: str
    where: dict[str, str | int | float | bool] = {}


class Entry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Who may start a run: ``profile`` once per profile ever, ``key`` once per profile and value of
    the trigger's property ``key``, ``every`` at most once per profile every ``every_days``."""

    once: Literal["profile", "key", "every"] = "profile"
    key: str = ""
    every_days: int = 0


class Wait(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="wait", tag_field="type"):
    """Wait ``seconds``, or until the next ``until_local`` (HH:MM) in the profile's timezone."""

    id: str
    seconds: int = 0
    until_local: str = ""
    next: str = ""


class WaitEvent(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="wait_event", tag_field="type"):
    """Wait for ``event`` (with property ``key`` equal to the run's key when ``key`` is set)."""

    id: str
    event: str
    timeout_s: int
    key: str = ""
    next: str = ""
    timeout_next: str = ""


class Case(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One condition of a branch (exactly one of attribute, tag, segment, event, arm) and its next step."""

    next: str
    attribute: str = ""
    equals: str | int | float | bool | None = None
    tag: str = ""
    segment: str = ""
    event: str = ""
    arm: float = 0.0


class Branch(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="branch", tag_field="type"):
    """The first case that holds decides the next step, else ``default``."""

    id: str
    cases: list[Case]
    default: str = ""


class Send(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="send", tag_field="type"):
    """Send ``template`` through the send policy (dedupe key ``journey:<run>:<step>``)."""

    id: str
    template: Template
    next: str = ""


class Update(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="update", tag_field="type"):
    """Tag the profile or set attributes (idempotent: sets, not increments)."""

    id: str
    add_tags: list[str] = []
    remove_tags: list[str] = []
    set: dict[str, str | int | float | bool] = {}
    next: str = ""


class Handover(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="handover", tag_field="type"):
    """Hand the customer's official conversation over to an agent (``reason`` shown to agents)."""

    id: str
    reason: str = "journey"
    next: str = ""


class Exit(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="exit", tag_field="type"):
    """End the run."""

    id: str


Step = Wait | WaitEvent | Branch | Send | Update | Handover | Exit


class Journey(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A whole journey definition (see the module docstring)."""

    name: str
    trigger: Trigger
    steps: list[Step]
    topic: str = "marketing"
    entry: Entry = Entry()
    goal: str = ""

    def step(self, sid: str) -> Step:
        """The step named ``sid`` (KeyError if none)."""
        for s in self.steps:
            if s.id == sid:
                return s
        raise KeyError(sid)


def _bad(message: str, code: ErrorCode = ErrorCode.JOURNEY_INVALID) -> ProtocolError:
    return ProtocolError(code, message)


def successors(step: Step) -> list[str]:
    """The steps ``step`` may go to next (empty for an end)."""
    match step:
        case Exit():
            return []
        case WaitEvent():
            return [n for n in (step.next, step.timeout_next) if n]
        case Branch():
            return [c.next for c in step.cases] + ([step.default] if step.default else [])
        case _:
            return [step.next] if step.next else []


def _check_step(step: Step, known: Collection[str]) -> None:
    where = f"step {step.id!r}"
    match step:
        case Wait():
            if bool(step.seconds) == bool(step.until_local):
                raise _bad(f"{where}: a wait needs exactly one of seconds and until_local")
            if step.seconds and not 0 < step.seconds <= MAX_WAIT_S:
                raise _bad(f"{where}: seconds must be 1-{MAX_WAIT_S}")
            if step.until_local and not _CLOCK.match(step.until_local):
                raise _bad(f"{where}: until_local must be HH:MM")
        case WaitEvent():
            if not 0 < step.timeout_s <= MAX_WAIT_S:
                raise _bad(f"{where}: timeout_s must be 1-{MAX_WAIT_S}")
            if not step.event:
                raise _bad(f"{where}: the event to wait for is empty")
        case Branch():
            if not step.cases:
                raise _bad(f"{where}: a branch needs at least one case")
            arms = 0.0
            for case in step.cases:
                given = [
                    bool(case.attribute),
                    bool(case.tag),
                    bool(case.segment),
                    bool(case.event),
                    case.arm > 0,
                ]
                if sum(given) != 1:
                    raise _bad(f"{where}: each case has exactly one of attribute, tag, segment, event, arm")
                arms += case.arm
            if arms > 100:
                raise _bad(f"{where}: arm percentages add up to more than 100")
        case Send():
            validate(step.template, known)
        case Update():
            if not (step.add_tags or step.remove_tags or step.set):
                raise _bad(f"{where}: an update changes nothing")


def _check_graph(journey: Journey) -> None:
    ids = [s.id for s in journey.steps]
    by_id = {s.id: s for s in journey.steps}
    for s in journey.steps:
        for n in successors(s):
            if n not in by_id:
                raise _bad(f"step {s.id!r} goes to unknown step {n!r}")
    # a cycle: depth-first with colours (0 new, 1 on the path, 2 done)
    colour = dict.fromkeys(ids, 0)
    for root in ids:
        if colour[root]:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        colour[root] = 1
        while stack:
            sid, i = stack.pop()
            nexts = successors(by_id[sid])
            if i < len(nexts):
                stack.append((sid, i + 1))
                n = nexts[i]
                if colour[n] == 1:
                    raise _bad(f"steps form a cycle through {n!r}", ErrorCode.JOURNEY_CYCLE)
                if colour[n] == 0:
                    colour[n] = 1
                    stack.append((n, 0))
            else:
                colour[sid] = 2
    seen = {ids[0]}
    todo = [ids[0]]
    while todo:
        for n in successors(by_id[todo.pop()]):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    lost = [i for i in ids if i not in seen]
    if lost:
        raise _bad(f"no path reaches step(s) {', '.join(lost)}", ErrorCode.JOURNEY_UNREACHABLE)


def parse_journey(raw: Mapping[str, Any] | bytes, known: Collection[str]) -> Journey:
    """Decode and validate a definition; ``known``: the template variables the app declares.

    Raises :class:`ProtocolError` (see the module docstring for the codes)."""
    try:
        if isinstance(raw, bytes):
            journey = msgspec.json.decode(raw, type=Journey)
        else:
            journey = msgspec.convert(raw, Journey)
    except msgspec.ValidationError as exc:
        raise _bad(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise _bad(f"not JSON: {exc}") from None
    if not journey.name.strip() or len(journey.name) > 200:
        raise _bad("name must be 1-200 characters")
    if not journey.trigger.event:
        raise _bad("trigger.event is empty")
    if not journey.steps or len(journey.steps) > MAX_STEPS:
        raise _bad(f"a journey has 1-{MAX_STEPS} steps")
    entry = journey.entry
    if entry.once == "key" and not entry.key:
        raise _bad("entry once per key needs entry.key (a property of the trigger event)")
    if entry.once == "every" and not 0 < entry.every_days <= 366:
        raise _bad("entry every needs every_days 1-366")
    seen: set[str] = set()
    for s in journey.steps:
        if not _ID.match(s.id):
            raise _bad(f"step id {s.id!r} must be 1-64 of A-Z a-z 0-9 _ . : -")
        if s.id in seen:
            raise _bad(f"step id {s.id!r} repeated")
        seen.add(s.id)
    _check_graph(journey)
    for s in journey.steps:
        _check_step(s, known)
    return journey


def load_journey(doc: Mapping[str, Any]) -> Journey:
    """A stored definition (validated when it was stored) decoded again."""
    return msgspec.convert(doc, Journey)


def to_json(journey: Journey) -> dict[str, Any]:
    """The definition as a JSON object (what the store keeps and the API returns)."""
    out: dict[str, Any] = msgspec.to_builtins(journey)
    return out
