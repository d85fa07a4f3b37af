"""Measurement of marketing touches: what each recipient did with a campaign (or journey step) message.

A *touch source* names what was sent: ``campaign:<cid>`` (``campaign:<cid>@<n>`` for an occurrence of a
recurring one) or ``journey:<jid>/<step>`` for a journey's send step (``/`` is in no id, so the source
parses back; the same counting serves both). A message's marker gives its source
(:func:`touch_source`): a journey message's marker id is ``journey:<jid>`` and its variant the step. Per source, recipient and *kind* (``delivered``, ``read``,
``clicked``, ``replied``, ``opted_out``, ``converted``) at most one engagement is counted: it is a row of the
delivery ledger (:class:`~parley.server.activation_port.DeliveryLedger`) under the key
``m:<source>:<kind>``, claimed atomically per recipient — so a retried or repeated event, a
second tap, or two nodes seeing the same message count once — whose state is the recipient's
*arm* (the variant id, or ``control``). The counts per arm are one grouped count of that key.

Every first engagement flows back into the audience profile as a tag with its provenance
(source ``campaign``, evidence ``<kind>:<message or event id>``): ``engaged:<id>`` for a click
or a reply, ``converted:<id>`` for a conversion (``<id>`` is :func:`tag_id` of the source: the campaign
id, or ``journey:<jid>`` for every step of a journey, so ``tag engaged:journey:<jid>`` is a segment).
The tag is set before the ledger row is settled: a crash in between leaves the claim pending,
and the next event (or results read) after its lease takes it over and sets the tag again —
setting a tag twice is harmless. Segments can then use the tags (``tag converted:<cid>``).

:class:`Measurement` is also a message-service observer: a customer's tap on a campaign message
(:func:`~parley.proto.campaign.read_tap`) is a click (and an ``opt_out`` tap an opt-out); any
other message of the customer in their conversation with the official account is a reply to the
latest campaign message there (a free-text "stop" is an opt-out instead). The check costs nothing
for a message that is not a tap unless its conversation is official (a per-node cache of which
conversations are). A read receipt of the customer in their official conversation
(:meth:`on_read`, the receipt service's listener) reads every campaign message up to its seq
(looking back ``_REPLY_LOOKBACK`` messages: a reader who jumps further counts for the latest ones).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

from parley.proto.campaign import read_marker, read_tap
from parley.server.activation_port import PENDING, DeliveryLedger
from parley.server.ids import now_ms
from parley.server.models import Appended, StoredMessage
from parley.server.services.audience import TagSpec
from parley.server.services.official import is_opt_out

__all__ = [
    "CONTROL_ARM", "KINDS", "AudienceTagger", "Measurement", "Tagger", "journey_source", "measure_key", "tag_id",
    "touch_source",
]  # fmt: skip

log = logging.getLogger("parley.marketing")

#: The engagement kinds counted per source, arm and recipient.
KINDS = ("delivered", "read", "clicked", "replied", "opted_out", "converted")
#: Kinds that imply the recipient had the message: each also counts ``delivered`` (once).
_IMPLY_DELIVERED = frozenset({"read", "clicked", "replied", "opted_out"})
#: The arm of a control-group (global control or hold-out) recipient.
CONTROL_ARM = "control"
#: How far back in an official conversation a reply looks for the campaign message it answers.
_REPLY_LOOKBACK = 20
_LEASE_MS = 10_000


def measure_key(source: str, kind: str) -> str:
    """The delivery-ledger key counting ``kind`` of touch source ``source``."""
    return f"m:{source}:{kind}"


def journey_source(jid: str, step: str) -> str:
    """The touch source of journey ``jid``'s send step ``step``."""
    return f"journey:{jid}/{step}"


def touch_source(marker_id: str, variant: str) -> str:
    """The touch source of a message whose marker has id ``marker_id`` and variant ``variant``: a journey
    message (``journey:<jid>``, the variant its step) counts for that step, any other for its campaign."""
    if marker_id.startswith("journey:"):
        return journey_source(marker_id.removeprefix("journey:"), variant)
    return f"campaign:{marker_id}"


def tag_id(source: str) -> str:
    """The id a source's profile tags carry: the campaign id of ``campaign:<cid>``, ``journey:<jid>`` of
    ``journey:<jid>/<step>`` (one tag per journey, whichever step was engaged with)."""
    if source.startswith("journey:"):
        return source.split("/")[0]
    parts = source.split(":")
    # One tag for every occurrence of a recurring campaign (``campaign:<cid>@<n>``).
    return parts[1].split("@")[0] if len(parts) > 1 else source


class Tagger(Protocol):
    """What measurement needs of the audience service."""

    async def tag(self, app: str, pid: str, name: str, *, evidence: str) -> None:
        """Set tag ``name`` on profile ``pid`` (source ``campaign``) with ``evidence``."""

    async def pid_for_user(self, app: str, user: str) -> str:
        """The live profile of chat user ``user``."""


class _Messages(Protocol):
    async def get_messages(self, app: str, conv: str, first: int, last: int) -> list[StoredMessage]: ...


class _Officials(Protocol):
    async def official_user(self, app: str) -> str: ...


class _Conversations(Protocol):
    async def customer(self, app: str, conv: str, official: str) -> str: ...


class MeasureStore(DeliveryLedger, _Messages, Protocol):
    """The store roles measurement uses."""


class Measurement:
    """Idempotent engagement counting and its observer (see the module docstring)."""

    def __init__(
        self,
        store: MeasureStore,
        tagger: Tagger,
        *,
        officials: _Officials,
        conversations: _Conversations,
        cache: int = 50_000,
    ) -> None:
        self._store = store
        self._tagger = tagger
        self._officials = officials
        self._conversations = conversations
        #: (app, conv) -> the customer of a brand conversation ("": not one). Only the customer's messages
        #: and receipts count: the bot and agents serving a case there are members too.
        self._official_convs: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._cache = cache
        self._owner = f"measure-{secrets.token_hex(6)}"
        self._tasks: set[asyncio.Task[None]] = set()

    async def record(
        self, app: str, source: str, pid: str, kind: str, *, arm: str, evidence: str = "", now: int = 0
    ) -> bool:
        """Count ``kind`` of ``pid`` for ``source`` in ``arm`` once; True if counted now (False: counted
        before, or another node is counting it). Tags the profile on the first click, reply or conversion."""
        if kind not in KINDS:
            raise ValueError(f"unknown engagement kind {kind!r}")
        now = now or now_ms()
        if kind in _IMPLY_DELIVERED:
            await self.record(app, source, pid, "delivered", arm=arm, evidence=evidence, now=now)
        key = measure_key(source, kind)
        claim = await self._store.claim_delivery(
            app, key, pid, owner=self._owner, now=now, lease_ms=_LEASE_MS
        )
        if claim is None:
            return False
        if kind in ("clicked", "replied"):
            await self._tagger.tag(app, pid, f"engaged:{tag_id(source)}", evidence=f"{kind}:{evidence}")
        elif kind == "converted":
            await self._tagger.tag(app, pid, f"converted:{tag_id(source)}", evidence=f"{kind}:{evidence}")
        return await self._store.settle_delivery(
            app, key, pid, owner=self._owner, state=arm or CONTROL_ARM, now=now, detail=evidence
        )

    async def counts(self, app: str, source: str, kind: str) -> dict[str, int]:
        """Recipients who did ``kind`` per arm (claims being counted right now are left out)."""
        found = await self._store.count_deliveries(app, measure_key(source, kind))
        return {arm: n for arm, n in found.items() if arm != PENDING}

    def on_stored(self, results: Sequence[Appended]) -> None:
        """The message service's observer: only looks and schedules (it runs on the send path)."""
        for result in results:
            m = result.message
            if result.duplicate or m.kind != "text":
                continue
            cached = self._official_convs.get((m.app, m.conv))
            if read_tap(m.body) is None and cached == "":
                continue
            task = asyncio.get_running_loop().create_task(self._observe(m))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _observe(self, m: StoredMessage) -> None:
        try:
            official = await self._officials.official_user(m.app)
            if m.sender == official:
                return
            tap = read_tap(m.body)
            if tap is not None:
                pid = await self._tagger.pid_for_user(m.app, m.sender)
                source = touch_source(tap.campaign, tap.variant)
                await self.record(m.app, source, pid, "clicked", arm=tap.variant, evidence=m.mid, now=m.ts)
                if tap.action == "opt_out":
                    await self.record(
                        m.app, source, pid, "opted_out", arm=tap.variant, evidence=m.mid, now=m.ts
                    )
                return
            if await self._is_official(m.app, m.conv, official) != m.sender:
                return
            answered = await self._latest_campaign(m, official)
            if answered is None:
                return
            cid, variant = answered
            kind = "opted_out" if is_opt_out(str(m.body.get("text", ""))) else "replied"
            pid = await self._tagger.pid_for_user(m.app, m.sender)
            source = touch_source(cid, variant)
            await self.record(m.app, source, pid, kind, arm=variant, evidence=m.mid, now=m.ts)
        except Exception:  # the message is stored; a lost count is logged, never the chat's failure
            log.exception("engagement of message %s could not be counted", m.mid)

    def on_read(self, app: str, user: str, conv: str, seq: int) -> None:
        """The receipt service's listener: skips a conversation known not to be official, else a task."""
        if self._official_convs.get((app, conv)) == "":
            return
        task = asyncio.get_running_loop().create_task(self._read(app, user, conv, seq))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, app: str, user: str, conv: str, seq: int) -> None:
        try:
            official = await self._officials.official_user(app)
            if user == official or await self._is_official(app, conv, official) != user:
                return
            seen = await self._store.get_messages(app, conv, max(1, seq - _REPLY_LOOKBACK + 1), seq)
            marked = [(m, read_marker(m.body)) for m in seen if m.sender == official]
            if not (found := [(m, marker) for m, marker in marked if marker is not None]):
                return
            pid = await self._tagger.pid_for_user(app, user)
            for m, marker in found:
                await self.record(
                    app,
                    touch_source(marker.id, marker.variant),
                    pid,
                    "read",
                    arm=marker.variant,
                    evidence=m.mid,
                )
        except Exception:  # the receipt is stored; a lost count is logged
            log.exception("read of %s up to %d could not be counted", conv, seq)

    async def _is_official(self, app: str, conv: str, official: str) -> str:
        """The customer of the brand conversation ``conv``; "" if it is not one."""
        key = (app, conv)
        known = self._official_convs.get(key)
        if known is None:
            known = await self._conversations.customer(app, conv, official)
            self._official_convs[key] = known
            if len(self._official_convs) > self._cache:
                self._official_convs.popitem(last=False)
        return known

    async def _latest_campaign(self, m: StoredMessage, official: str) -> tuple[str, str] | None:
        """The (campaign, variant) of the latest campaign message before ``m`` in its conversation."""
        earlier = await self._store.get_messages(m.app, m.conv, max(1, m.seq - _REPLY_LOOKBACK), m.seq - 1)
        for prior in reversed(earlier):
            marker = read_marker(prior.body) if prior.sender == official else None
            if marker is not None:
                return marker.id, marker.variant
        return None

    async def drain(self) -> None:
        """Wait for the engagements being counted (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class AudienceTagger:
    """:class:`Tagger` over the audience service (tags with source ``campaign``)."""

    def __init__(self, audience: _Audience) -> None:
        self._audience = audience

    async def tag(self, app: str, pid: str, name: str, *, evidence: str) -> None:
        """Set ``name`` on ``pid`` with ``evidence`` as its provenance."""
        await self._audience.update(
            app, pid, actor="measure", add_tags=[TagSpec(name, evidence=evidence[:200])], source="campaign"
        )

    async def pid_for_user(self, app: str, user: str) -> str:
        """The live profile of chat user ``user``."""
        return await self._audience.pid_for_user(app, user)


class _Audience(Protocol):
    async def update(
        self, app: str, pid: str, *, actor: str, add_tags: Sequence[TagSpec] = (), source: str = "manual"
    ) -> dict[str, Any]: ...

    async def pid_for_user(self, app: str, user: str) -> str: ...
