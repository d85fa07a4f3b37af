"""Compliance: export everything stored about one person, erase a person, and the identifier
tombstones that keep an erased person erased (docs/AUDIENCE.md ``## Compliance``).

Erase order (each step idempotent; the profile is deleted last, so a crash part-way leaves it
findable and running the erase again finishes the job):

1. the erase record ``er_<pid>`` is saved ``erasing`` (no personal data: pid, actor, times);
2. a tombstone of each identifier (HMAC-SHA-256 with the app's random salt) is kept, so from
   now on an identify or event naming one of them is refused (``identifier_erased``);
3. every message the person's chat users wrote is recalled in the store (content gone, from
   earlier edit records too), and their directory records are anonymised (name, meta cleared);
4. their events are deleted; 5. their audience rows (identifiers, merges, tags, consent,
   history, the profiles themselves, last) are deleted;
6. the record is marked ``done`` with counts, and the erase is written to the audit log.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import replace
from typing import Any

import msgspec

from parley.proto.errors import ErrorCode
from parley.server.audience_models import USER_KIND, Identifier
from parley.server.compliance_port import ErasureRecord
from parley.server.errors import ServiceError
from parley.server.ids import now_ms
from parley.server.ports import Store
from parley.server.services.audience import AudienceService
from parley.server.services.identity import IdentityService
from parley.server.services.moderation import ModerationService

__all__ = ["EXPORT_PAGE", "ComplianceService"]

#: Events and messages are read (and streamed out) this many at a time: an export holds at
#: most one page of each in memory, however long the person's history.
EXPORT_PAGE = 500


def _line(kind: str, data: Any) -> bytes:
    return msgspec.json.encode({"type": kind, "data": data}) + b"\n"


class ComplianceService:
    """Export, erase and the tombstone check (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        audience: AudienceService,
        identity: IdentityService,
        moderation: ModerationService,
    ) -> None:
        self._store = store
        self._audience = audience
        self._identity = identity
        self._moderation = moderation
        self._salts: dict[str, bytes] = {}
        #: Called with the app after each erase (the event service drops its cached profile ids).
        self.on_erased: list[Callable[[str], None]] = []

    async def digests(self, app: str, idents: Iterable[Identifier]) -> list[str]:
        """The tombstone digest of each identifier: HMAC-SHA-256 keyed by the app's salt."""
        salt = self._salts.get(app)
        if salt is None:
            salt = self._salts[app] = bytes.fromhex(await self._store.erase_salt(app, os.urandom(32).hex()))
        return [hmac.new(salt, f"{i.kind}\x00{i.value}".encode(), hashlib.sha256).hexdigest() for i in idents]

    async def check(self, app: str, idents: Iterable[Identifier]) -> None:
        """Refuse (``identifier_erased``) if any identifier belongs to an erased person."""
        wanted = list(idents)
        if wanted and await self._store.tombstoned(app, await self.digests(app, wanted)):
            raise ServiceError(
                ErrorCode.IDENTIFIER_ERASED, "an identifier of this request belongs to an erased person"
            )

    async def release(self, app: str, idents: Iterable[Identifier], actor: str) -> int:
        """Lift the tombstones of ``idents`` (the person came back and asked to be known again):
        later identifies and events with them are accepted and make a new profile. Audited (with
        the count only, never the identifiers); returns how many tombstones were lifted."""
        wanted = list(idents)
        lifted = await self._store.remove_tombstones(app, await self.digests(app, wanted))
        await self._moderation.audit(
            app, actor, "audience.release", "", identifiers=len(wanted), lifted=lifted
        )
        return lifted

    async def export(self, app: str, pid: str) -> AsyncIterator[bytes]:
        """NDJSON lines ``{"type", "data"}`` of everything stored about the person (``profile``,
        ``identifier``, ``merge``, ``tag_change``, ``consent``, ``event``, ``delivery``, ``user``,
        ``conversation``, ``message``, ``ticket``).
        ``profile_not_found`` (raised before the first line) for an unknown person."""
        live = await self._audience.live_profile(app, pid)
        view = await self._audience.view(app, live.pid)
        return self._lines(app, live.pid, view)

    async def _lines(self, app: str, pid: str, view: dict[str, Any]) -> AsyncIterator[bytes]:
        yield _line("profile", view)
        idents = await self._store.identifiers_of(app, pid)
        for i in idents:
            yield _line("identifier", {"kind": i.kind, "value": i.value})
        for m in await self._identity.merges(app, pid):
            yield _line("merge", m)
        for h in await self._audience.tag_history(app, pid):
            yield _line("tag_change", h)
        for c in await self._audience.consent_ledger(app, pid):
            yield _line("consent", c)
        for p in await self._audience.person_pids(app, pid):
            after: tuple[int, str] | None = None
            while True:
                page = await self._store.events_of(app, p, after=after, limit=EXPORT_PAGE)
                for e in page:
                    yield _line("event", {"eid": e.eid, "name": e.name, "ts": e.ts, "props": e.props})
                if len(page) < EXPORT_PAGE:
                    break
                after = (page[-1].ts, page[-1].eid)
        for p in await self._audience.person_pids(app, pid):
            after_key = ""
            while rows := await self._store.deliveries_of(app, p, after_key=after_key, limit=EXPORT_PAGE):
                for d in rows:
                    yield _line(
                        "delivery", {"key": d.key, "state": d.state, "updated": d.updated, "mid": d.mid}
                    )
                after_key = rows[-1].key
        for user in (i.value for i in idents if i.kind == USER_KIND):
            record = await self._store.get_user(app, user)
            if record is not None:  # the chat user's directory record: display name and meta
                yield _line("user", {"user": record.user, "name": record.name, "role": record.role,
                                     "meta": record.meta, "created": record.created,
                                     "last_seen": record.last_seen})  # fmt: skip
            async for line in self._chat_lines(app, user):
                yield line

    async def _chat_lines(self, app: str, user: str) -> AsyncIterator[bytes]:
        """What ``user`` wrote in each conversation they are a member of, and their tickets."""
        for conv, member in await self._store.list_user_conversations(app, user):
            yield _line("conversation", {"conv": conv.conv, "kind": conv.kind, "user": user, "role": member.role,
                                         "joined": member.joined, "read_seq": member.read_seq})  # fmt: skip
            for first in range(1, conv.last_seq + 1, EXPORT_PAGE):
                page = await self._store.get_messages(app, conv.conv, first, first + EXPORT_PAGE - 1)
                for m in page:
                    if m.sender == user:
                        yield _line("message", {"conv": m.conv, "seq": m.seq, "mid": m.mid, "kind": m.kind,
                                                "body": m.body, "ts": m.ts, "edited": m.edited,
                                                "recalled": m.recalled})  # fmt: skip
            if conv.may_have_ticket:
                ticket = await self._store.get_ticket(app, conv.conv)
                if ticket is not None and ticket.customer == user:
                    yield _line("ticket", {"conv": ticket.conv, "state": ticket.state, "agent": ticket.agent,
                                           "reason": ticket.reason, "summary": ticket.summary,
                                           "score": ticket.score, "created": ticket.created,
                                           "updated": ticket.updated})  # fmt: skip

    async def erase(self, app: str, pid: str, actor: str) -> ErasureRecord:
        """Erase the person ``pid`` (or the person it was merged into) in the order of the module
        docstring; idempotent. ``profile_not_found`` if there is no such person and was none."""
        profile = await self._store.get_audience_profile(app, pid)
        if profile is None:
            done = await self._store.get_erasure(app, f"er_{pid}")
            if done is None:
                raise ServiceError(ErrorCode.PROFILE_NOT_FOUND, "no such profile in this app")
            return done  # erased already (a retry after a lost answer)
        live = await self._audience.live_profile(app, pid)
        key = f"er_{live.pid}"
        earlier = await self._store.get_erasure(app, key)
        started = earlier.started if earlier else now_ms()
        await self._store.save_erasure(ErasureRecord(app, key, live.pid, actor, "erasing", started))
        pids = await self._audience.person_pids(app, live.pid)
        idents = [i for p in pids for i in await self._store.identifiers_of(app, p)]
        await self._store.add_tombstones(app, await self.digests(app, idents), key, now_ms())
        messages = users = 0
        for user in {i.value for i in idents if i.kind == USER_KIND}:
            messages += await self._recall_all(app, user)
            # Before step 5: the ``user`` identifiers are how the chat users are found on a retry.
            users += await self._store.anonymise_user(app, user)
        events = sum([await self._store.delete_events_of(app, p) for p in pids])
        profiles = await self._store.delete_person_rows(app, pids)
        counts = {"identifiers": len(idents), "messages": messages, "users": users, "events": events,
                  "profiles": profiles}  # fmt: skip
        record = ErasureRecord(app, key, live.pid, actor, "done", started, now_ms(), counts)
        await self._store.save_erasure(record)
        for listener in self.on_erased:
            listener(app)
        await self._moderation.audit(app, actor, "audience.erase", live.pid, **counts)
        return record

    async def _recall_all(self, app: str, user: str) -> int:
        """Recall (tombstone in the store) every message ``user`` wrote that is not recalled yet,
        and clear the reason and summary (the last things said) of the tickets where they are the
        customer."""
        n = 0
        for conv, _member in await self._store.list_user_conversations(app, user):
            for first in range(1, conv.last_seq + 1, EXPORT_PAGE):
                for m in await self._store.get_messages(app, conv.conv, first, first + EXPORT_PAGE - 1):
                    if m.sender == user and not m.recalled:
                        await self._store.recall_message(app, conv.conv, m.seq)
                        n += 1
            ticket = await self._store.get_ticket(app, conv.conv) if conv.may_have_ticket else None
            if ticket is not None and ticket.customer == user and (ticket.summary or ticket.reason):
                # A compare-and-set on the state: a ticket that moved meanwhile is cleared by the retry.
                await self._store.update_ticket(replace(ticket, summary="", reason=""), {ticket.state})
        return n

    async def erasures(self, app: str, *, after: str, limit: int) -> list[ErasureRecord]:
        """A page of the app's erase records, by id."""
        return await self._store.list_erasures(app, after=after, limit=limit)
