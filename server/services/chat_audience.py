"""Recipients and consent read from the chat profile (until the audience profile port is wired in).

:class:`ChatProfileAudience` serves the send policy's
:class:`~parley.server.services.send_policy.Recipients` and the opt-out listener's
:class:`~parley.server.services.official.ConsentWriter` over the existing
:class:`~parley.server.store_ports.Profiles` port, with the chat user id as the profile id:

* ``timezone`` / ``language`` — the profile attributes of those names;
* template values — every attribute (and ``user``);
* consent — the attribute ``consent:<topic>``: ``"granted"`` is consent, anything else (absent,
  ``"denied"``, ``"withdrawn"``) is none. A withdrawal is one atomic ``merge_profile`` that sets
  it to ``"withdrawn"`` and records the evidence (``consent_via:<topic>``).

Once the audience port (issue 12: profiles keyed by pid, identifiers, consent ledger) is on main,
an adapter over it replaces this one in ``build_services``; the send policy does not change.
"""

from __future__ import annotations

from parley.server.services.send_policy import Recipient
from parley.server.store_ports import Profiles

__all__ = ["ChatProfileAudience"]


class ChatProfileAudience:
    """Recipients and consent on the chat profile (see the module docstring)."""

    def __init__(self, store: Profiles) -> None:
        self._store = store

    async def recipient(self, app: str, pid: str) -> Recipient | None:
        """The recipient whose chat user is ``pid``; None if it has no profile."""
        profile = await self._store.get_profile(app, pid)
        if profile is None:
            return None
        attrs = profile.attributes
        consent = {
            key.removeprefix("consent:"): value == "granted"
            for key, value in attrs.items()
            if key.startswith("consent:")
        }
        tz, lang = attrs.get("timezone"), attrs.get("language")
        return Recipient(
            pid=pid,
            user=pid,
            timezone=tz if isinstance(tz, str) else None,
            language=lang if isinstance(lang, str) else None,
            values={**attrs, "user": pid},
            consent=consent,
        )

    async def grant(self, app: str, user: str, topic: str, *, via_kind: str, via_ref: str, now: int) -> None:
        """Record that ``user`` granted consent for ``topic``."""
        await self._set(app, user, topic, "granted", f"{via_kind}:{via_ref}", now)

    async def withdraw(
        self, app: str, user: str, topic: str, *, via_kind: str, via_ref: str, now: int
    ) -> None:
        """Record that ``user`` withdrew consent for ``topic`` (one atomic profile change)."""
        await self._set(app, user, topic, "withdrawn", f"{via_kind}:{via_ref}", now)

    async def _set(self, app: str, user: str, topic: str, state: str, via: str, now: int) -> None:
        attributes = {f"consent:{topic}": state, f"consent_via:{topic}": via}
        await self._store.merge_profile(app, user, attributes=attributes, updated=now)
