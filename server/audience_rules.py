"""The pure rules both audience adapters apply: a change to a profile, a merge, an unmerge.

Kept in one place so that SQLite (inside one transaction) and MongoDB (a compare-and-set on
the profile's ``rev``) compute exactly the same result.

The merge rule (documented in docs/AUDIENCE.md ``## Identity``):

* attributes, timezone, language, chat attributes: the survivor's value wins; the merged
  profile's fills what the survivor lacks;
* tags: the union by name; for a name on both, the higher confidence, then the later ``ts``;
* consent: per topic the most restrictive state wins (``denied``/``withdrawn`` over
  ``granted``; between two restrictive ones the later);
* computed values: counters (keys ``count:...``) and chat counters are added, others kept
  from the survivor, filled from the merged profile;
* identifiers: the union.
"""

from __future__ import annotations

from dataclasses import replace

import msgspec

from parley.server.audience_models import (
    APPLIED_KEEP,
    AudienceProfile,
    ConsentEntry,
    ConsentState,
    MergeRecord,
    ProfileChange,
    TagChange,
)
from parley.server.models import Profile, TagRecord

__all__ = ["apply_change", "chat_view", "decode_merge", "encode_merge", "merge_profiles", "unmerge_survivor"]

_merge = msgspec.msgpack.Decoder(MergeRecord)


def encode_merge(record: MergeRecord) -> bytes:
    """The stored form of a merge record (msgpack, both adapters)."""
    return msgspec.msgpack.encode(record)


def decode_merge(blob: bytes) -> MergeRecord:
    """The merge record of :func:`encode_merge`'s bytes."""
    return _merge.decode(blob)


def chat_view(p: AudienceProfile, user: str) -> Profile:
    """The chat side's :class:`Profile` of an audience profile (tags of every source)."""
    return Profile(p.app, user, dict(p.tags), dict(p.chat_attributes), dict(p.chat_counters), p.updated)


def apply_change(
    profile: AudienceProfile, change: ProfileChange
) -> tuple[AudienceProfile, list[TagChange], list[ConsentEntry]]:
    """``profile`` after ``change`` (``rev`` + 1), with the tag-history and ledger lines to append."""
    rev = profile.rev + 1
    attrs = dict(profile.attrs)
    for key, value in change.attrs.items():
        if value is None or value == ():
            attrs.pop(key, None)
        else:  # a string list is a set: stored sorted, without repeats (as both adapters read it back)
            attrs[key] = tuple(sorted(set(value))) if isinstance(value, tuple) else value
    tags = dict(profile.tags)
    history: list[TagChange] = []
    for name in change.remove_tags:
        old = tags.pop(name, None)
        if old is not None:
            history.append(TagChange(name, rev, "remove", old.source, old.confidence, old.evidence, change.now,
                                     change.actor))  # fmt: skip
    for t in change.set_tags:
        tags[t.name] = t
        history.append(TagChange(t.name, rev, "set", t.source, t.confidence, t.evidence, t.ts, change.actor))
    consent = dict(profile.consent)
    for entry in change.consent:
        consent[entry.topic] = ConsentState(entry.state, entry.ts)
    computed = dict(profile.computed)
    for key, cvalue in change.computed.items():
        if cvalue is None:
            computed.pop(key, None)
        else:
            computed[key] = cvalue
    for key, delta in change.counts.items():
        current = computed.get(key, 0.0)
        computed[key] = (current if isinstance(current, float | int) else 0.0) + delta
    chat_counters = dict(profile.chat_counters)
    for key, inc in change.chat_counters.items():
        chat_counters[key] = chat_counters.get(key, 0) + inc
    updated = replace(
        profile,
        rev=rev,
        updated=max(profile.updated, change.now),
        timezone=profile.timezone if change.timezone is None else change.timezone,
        language=profile.language if change.language is None else change.language,
        attrs=attrs,
        tags=tags,
        consent=consent,
        computed=computed,
        chat_attributes={**profile.chat_attributes, **change.chat_attributes},
        chat_counters=chat_counters,
        applied=(*profile.applied, *change.events)[-APPLIED_KEEP:] if change.events else profile.applied,
    )
    return updated, history, list(change.consent)


def _better_tag(a: TagRecord, b: TagRecord) -> TagRecord:
    """Of two records of one tag, the higher confidence, then the later one (``a`` on a tie)."""
    return b if (b.confidence, b.ts) > (a.confidence, a.ts) else a


def _restrictive(a: ConsentState, b: ConsentState) -> ConsentState:
    """The more restrictive of two consent states (the later of two restrictive ones)."""
    a_open, b_open = a.state == "granted", b.state == "granted"
    if a_open != b_open:
        return b if a_open else a
    return b if b.ts > a.ts else a


def merge_profiles(winner: AudienceProfile, loser: AudienceProfile, now: int) -> AudienceProfile:
    """The survivor after folding ``loser`` into ``winner`` by the module's merge rule."""
    tags = dict(loser.tags)
    for name, t in winner.tags.items():
        tags[name] = _better_tag(t, tags[name]) if name in tags else t
    consent = dict(loser.consent)
    for topic, c in winner.consent.items():
        consent[topic] = _restrictive(c, consent[topic]) if topic in consent else c
    computed: dict[str, float | str] = {**loser.computed, **winner.computed}
    for key, value in loser.computed.items():
        mine = winner.computed.get(key)
        if key.startswith("count:") and isinstance(value, float | int) and isinstance(mine, float | int):
            computed[key] = float(mine) + float(value)
    chat_counters = dict(loser.chat_counters)
    for key, n in winner.chat_counters.items():
        chat_counters[key] = chat_counters.get(key, 0) + n
    ids = tuple(dict.fromkeys((*winner.ids, *loser.ids)))
    return replace(
        winner,
        rev=winner.rev + 1,
        updated=max(winner.updated, loser.updated, now),
        created=min(winner.created, loser.created),
        timezone=winner.timezone or loser.timezone,
        language=winner.language or loser.language,
        attrs={**loser.attrs, **winner.attrs},
        tags=tags,
        consent=consent,
        computed=computed,
        ids=ids,
        chat_attributes={**loser.chat_attributes, **winner.chat_attributes},
        chat_counters=chat_counters,
        merged_from=(*winner.merged_from, loser.pid),
        # the loser's counters fold in: so do the events they counted (a recovery must not recount)
        applied=(*winner.applied, *loser.applied)[-APPLIED_KEEP:],
    )


def unmerge_survivor(current: AudienceProfile, record: MergeRecord, now: int) -> AudienceProfile:
    """The survivor after an unmerge: what it took from the merged profile and has not changed
    since is given back (removed); anything written to it after the merge stays. Consent is
    never loosened by an unmerge (a restriction learnt stays: the safe side). Identifiers that
    moved are removed from ``ids`` (the adapter moves them back)."""
    before, loser = record.winner_before, record.loser_before
    attrs = {k: v for k, v in current.attrs.items() if k in before.attrs or loser.attrs.get(k) != v}
    tags = {n: t for n, t in current.tags.items() if n in before.tags or loser.tags.get(n) != t}
    computed = dict(current.computed)
    for key, value in loser.computed.items():
        mine = computed.get(key)
        if key.startswith("count:") and isinstance(value, float | int) and isinstance(mine, float | int):
            computed[key] = float(mine) - float(value)
        elif key not in before.computed and mine == value:
            computed.pop(key)
    chat_counters = {k: n - loser.chat_counters.get(k, 0) for k, n in current.chat_counters.items()}
    chat_attributes = {
        k: v for k, v in current.chat_attributes.items()
        if k in before.chat_attributes or loser.chat_attributes.get(k) != v
    }  # fmt: skip
    moved = set(record.moved)
    return replace(
        current,
        rev=current.rev + 1,
        updated=max(current.updated, now),
        timezone=current.timezone if before.timezone or current.timezone != loser.timezone else "",
        language=current.language if before.language or current.language != loser.language else "",
        attrs=attrs,
        tags=tags,
        computed=computed,
        chat_attributes=chat_attributes,
        chat_counters={k: n for k, n in chat_counters.items() if n},
        ids=tuple(i for i in current.ids if i not in moved),
        merged_from=tuple(p for p in current.merged_from if p != record.loser),
    )
