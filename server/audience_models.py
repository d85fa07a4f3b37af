"""Records of the audience stores: profiles keyed by ``(app, pid)``, identifiers, tag history,
the consent ledger and merge records (see :mod:`parley.server.audience_port`).

Attribute values are stored *normalised* (what segments compile against): a number, bool or
date/time is a float (bool 0/1, date/time epoch ms), a string a ``str``, a string list a tuple
of ``str``. The app's schema (``services/audience.py``) turns them back into typed values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from parley.server.models import TagRecord

__all__ = [
    "APPLIED_KEEP",
    "CONSENT_STATES",
    "ID_KINDS",
    "AlreadyApplied",
    "AudienceProfile",
    "ConsentEntry",
    "ConsentState",
    "Identifier",
    "MergeRecord",
    "ProfileChange",
    "ProfileMerged",
    "ProfileNotFound",
    "StoredValue",
    "TagChange",
    "USER_KIND",
]

#: Ids of the latest applied events a MongoDB profile document remembers (``applied``): a change
#: naming one of them is refused (``AlreadyApplied``). Bounds the document (about 30 bytes each).
APPLIED_KEEP = 512
#: The identifier kind of the app's own user id, which is the chat user's id.
USER_KIND = "user"
#: The kinds of identifier a profile may carry.
ID_KINDS: tuple[str, ...] = (USER_KIND, "phone", "email", "union", "device", "cookie")
#: Consent states, from most to least restrictive where it matters (see ``audience_merge``).
CONSENT_STATES: tuple[str, ...] = ("denied", "withdrawn", "granted")

#: A stored attribute value: float (number, bool 0/1, epoch ms), str, or a tuple of str.
StoredValue = float | str | tuple[str, ...]


class ProfileNotFound(Exception):
    """No profile ``(app, pid)`` exists."""

    def __init__(self, app: str, pid: str) -> None:
        super().__init__(f"no profile {pid!r} in app {app!r}")
        self.app = app
        self.pid = pid


class ProfileMerged(Exception):
    """The profile was merged into ``into``: write there instead (re-resolve and retry)."""

    def __init__(self, pid: str, into: str) -> None:
        super().__init__(f"profile {pid!r} was merged into {into!r}")
        self.pid = pid
        self.into = into


class AlreadyApplied(Exception):
    """A profile change named events of which ``eids`` were applied already: nothing changed
    (apply the others alone)."""

    def __init__(self, pid: str, eids: frozenset[str]) -> None:
        super().__init__(f"profile {pid!r}: {len(eids)} of the events were applied already")
        self.pid = pid
        self.eids = eids


@dataclass(frozen=True, slots=True)
class Identifier:
    """One identifier of a person: ``kind`` (one of :data:`ID_KINDS`) and its normalised value."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The current consent of a profile for one topic: ``granted``/``denied``/``withdrawn`` since ``ts``."""

    state: str
    ts: int


@dataclass(frozen=True, slots=True)
class ConsentEntry:
    """One line of the consent ledger: ``state`` for ``topic`` at ``ts``, recorded through
    ``via_kind`` (``message``, ``console``, ``api``, ``sdk``, ``merge``) and ``via_ref`` (its id)."""

    topic: str
    state: str
    ts: int
    via_kind: str
    via_ref: str = ""


@dataclass(frozen=True, slots=True)
class TagChange:
    """One line of a tag's history: ``action`` ``set`` or ``remove`` by ``actor``; ``seq`` orders
    the lines of one profile (it is the profile's revision after the change)."""

    name: str
    seq: int
    action: Literal["set", "remove"]
    source: str
    confidence: float
    evidence: str
    ts: int
    actor: str


@dataclass(frozen=True, slots=True)
class AudienceProfile:
    """Everything stored about one person of an app (a live profile has ``merged_into == ""``).

    ``chat_attributes`` / ``chat_counters`` are what the chat side (bot, agents, CSAT) records
    through the legacy :class:`~parley.server.store_ports.Profiles` port: free-form, untyped,
    not segmentable. ``rev`` increases by one on every change (the tag history's ``seq``).
    """

    app: str
    pid: str
    created: int
    updated: int = 0
    timezone: str = ""
    language: str = ""
    merged_into: str = ""
    rev: int = 0
    attrs: dict[str, StoredValue] = field(default_factory=dict)
    tags: dict[str, TagRecord] = field(default_factory=dict)
    consent: dict[str, ConsentState] = field(default_factory=dict)
    computed: dict[str, float | str] = field(default_factory=dict)
    ids: tuple[Identifier, ...] = ()
    chat_attributes: dict[str, Any] = field(default_factory=dict)
    chat_counters: dict[str, int] = field(default_factory=dict)
    #: The profiles folded into this one by standing merges (makes a MongoDB fold idempotent).
    merged_from: tuple[str, ...] = ()
    #: The latest events applied to it (at most ``APPLIED_KEEP`` ids, MongoDB only: SQLite marks
    #: the events in the change's own transaction instead).
    applied: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProfileChange:
    """One atomic change to a profile (every part optional).

    ``attrs``: set (a value) or unset (None) normalised attributes; ``remove_tags`` then
    ``set_tags`` (by name; each recorded in the tag history with ``actor``); ``consent``: ledger
    lines appended and applied in order; ``timezone``/``language``: None leaves them, "" clears;
    ``computed``: set (None unsets); ``counts``: added to computed numbers (missing = 0);
    ``chat_attributes`` overwrite by key; ``chat_counters`` are added. ``events``: the ids of
    the stored events this change applies (counters of the event applier): the change is made
    at most once per event — refused with ``AlreadyApplied`` if one of them was applied.
    """

    now: int
    actor: str = ""
    attrs: dict[str, StoredValue | None] = field(default_factory=dict)
    set_tags: tuple[TagRecord, ...] = ()
    remove_tags: tuple[str, ...] = ()
    consent: tuple[ConsentEntry, ...] = ()
    timezone: str | None = None
    language: str | None = None
    computed: dict[str, float | str | None] = field(default_factory=dict)
    counts: dict[str, float] = field(default_factory=dict)
    chat_attributes: dict[str, Any] = field(default_factory=dict)
    chat_counters: dict[str, int] = field(default_factory=dict)
    events: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MergeRecord:
    """One merge: ``loser`` folded into ``winner`` because of ``matched`` identifiers.

    ``winner_before`` / ``loser_before`` are the two profiles as they were (the snapshot that
    allows an unmerge); ``moved`` the identifiers that moved from the loser to the winner.
    ``undone`` is the time of the unmerge (0 while the merge stands).
    """

    app: str
    mid: str
    winner: str
    loser: str
    matched: tuple[Identifier, ...]
    reason: str
    actor: str
    ts: int
    winner_before: AudienceProfile
    loser_before: AudienceProfile
    moved: tuple[Identifier, ...] = ()
    undone: int = 0
