"""The send policy's recipients and the opt-out's consent writes, on the audience profile ports.

:class:`AudienceRecipients` serves :class:`~parley.server.services.send_policy.Recipients` and
:class:`~parley.server.services.official.ConsentWriter` over
:class:`~parley.server.audience_port.AudienceProfiles` and
:class:`~parley.server.audience_port.Identities` (issue 12): a recipient is a live profile
``(app, pid)``; its chat user is its identifier of kind ``user``; its consent for a topic is the
consent ledger's current state (only ``granted`` is consent); its timezone and language are the
profile's; template values are its attributes (typed values as stored: numbers, strings, lists)
over its chat attributes, plus ``user``.

A withdrawal resolves the chat user to its profile (creating it if the app never saw them: an
opt-out must never be lost) and appends a ``withdrawn`` line to the consent ledger with the
message as evidence; a write that meets a merge is retried on the surviving profile.
"""

from __future__ import annotations

from typing import Any, Protocol

from parley.server.audience_models import ConsentEntry, ProfileChange, ProfileMerged
from parley.server.audience_port import AudienceProfiles, Identities
from parley.server.services.send_policy import Recipient

__all__ = ["AudienceRecipients"]

#: The identifier kind that links a profile to its chat user (one of ``ID_KINDS``).
USER_KIND = "user"
#: Merges a consent write may meet in a row before it gives up (each retry follows ``merged_into``).
_MERGE_RETRIES = 5


class _AudienceStore(AudienceProfiles, Identities, Protocol):
    """The audience roles this adapter uses."""


def _value(stored: Any) -> Any:
    if isinstance(stored, tuple):
        return list(stored)
    if isinstance(stored, float) and stored.is_integer():
        return int(stored)
    return stored


class AudienceRecipients:
    """Recipients and consent writes on the audience profiles (see the module docstring)."""

    def __init__(self, store: _AudienceStore) -> None:
        self._store = store

    async def recipient(self, app: str, pid: str) -> Recipient | None:
        """The live profile ``pid`` as a recipient (a merged profile's survivor); None if absent."""
        for _ in range(_MERGE_RETRIES):
            profile = await self._store.get_audience_profile(app, pid)
            if profile is None:
                return None
            if not profile.merged_into:
                break
            pid = profile.merged_into
        else:
            return None
        user = next((i.value for i in profile.ids if i.kind == USER_KIND), "")
        values: dict[str, Any] = {**profile.chat_attributes}
        values.update({k: _value(v) for k, v in profile.attrs.items()})
        values["user"] = user
        return Recipient(
            pid=profile.pid,
            user=user,
            timezone=profile.timezone or None,
            language=profile.language or None,
            values=values,
            consent={topic: c.state == "granted" for topic, c in profile.consent.items()},
        )

    async def pid_of(self, app: str, user: str, now: int) -> str:
        """The profile of chat user ``user`` (created if the app never saw them)."""
        pid, _ = await self._store.resolve_or_create(app, USER_KIND, user, now)
        return pid

    async def set_consent(
        self, app: str, pid: str, topic: str, state: str, *, via_kind: str, via_ref: str, now: int
    ) -> str:
        """Append ``state`` for ``topic`` to the ledger of ``pid`` (or its survivor); the pid written."""
        entry = ConsentEntry(topic, state, now, via_kind, via_ref)
        for _ in range(_MERGE_RETRIES):
            try:
                await self._store.update_audience_profile(
                    app, pid, ProfileChange(now=now, actor=via_kind, consent=(entry,))
                )
                return pid
            except ProfileMerged as merged:
                pid = merged.into
        raise ProfileMerged(pid, pid)

    async def withdraw(
        self, app: str, user: str, topic: str, *, via_kind: str, via_ref: str, now: int
    ) -> None:
        """Record that chat user ``user`` withdrew consent for ``topic`` (evidence: ``via_kind`` ``via_ref``)."""
        pid = await self.pid_of(app, user, now)
        await self.set_consent(app, pid, topic, "withdrawn", via_kind=via_kind, via_ref=via_ref, now=now)
