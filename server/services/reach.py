"""Who may reach whom: watch a user's presence, add a user to a conversation.

One place for these decisions, so that every path (gateway frames, admin API) asks the
same question and a new rule lands once. Blocking (a user blocks another: no adding, no
presence either way) is the other half, decided per pair by
:class:`~parley.server.services.safety.SafetyService` before these app-wide policies.

Policies (``Settings``):

* presence — ``shared`` (default): a user may watch themselves and users they share at
  least one conversation with; ``all``: anyone in the app.
* adding — ``anyone`` (default): any user may be put in a group by its managers;
  ``contacts``: only users who already share a conversation with the one adding them.
  The app's back-end (admin API) is not restricted by either.
"""

from __future__ import annotations

from collections.abc import Collection

from parley.proto.errors import ErrorCode
from parley.server.errors import ServiceError
from parley.server.ports import Store

__all__ = ["ADD_POLICIES", "PRESENCE_POLICIES", "ReachPolicy"]

PRESENCE_POLICIES = frozenset({"shared", "all"})
ADD_POLICIES = frozenset({"anyone", "contacts"})


class ReachPolicy:
    """Answers "may ``actor`` watch / add these users?" in one store round trip per request."""

    def __init__(self, store: Store, *, presence: str = "shared", add: str = "anyone") -> None:
        if presence not in PRESENCE_POLICIES:
            raise ValueError(f"presence policy must be one of {sorted(PRESENCE_POLICIES)}")
        if add not in ADD_POLICIES:
            raise ValueError(f"add policy must be one of {sorted(ADD_POLICIES)}")
        self._store = store
        self._presence = presence
        self._add = add

    async def require_watchable(self, app: str, watcher: str, users: Collection[str]) -> None:
        """Raise ``forbidden`` unless ``watcher`` may watch every one of ``users``."""
        others = [u for u in users if u != watcher]
        allowed = set(others)
        if others and self._presence == "shared":
            allowed = await self._store.shared_with(app, watcher, others)
        refused = [u for u in others if u not in allowed]
        if refused:
            raise ServiceError(
                ErrorCode.FORBIDDEN,
                f"presence of {_some(refused)} is not visible: watch only users you share a conversation with",
            )

    async def require_addable(self, app: str, actor: str, users: Collection[str]) -> None:
        """Raise ``forbidden`` unless ``actor`` may add every one of ``users`` to a conversation."""
        others = [u for u in users if u != actor]
        allowed = set(others)
        if others and self._add == "contacts":
            allowed = await self._store.shared_with(app, actor, others)
        refused = [u for u in others if u not in allowed]
        if refused:
            raise ServiceError(
                ErrorCode.FORBIDDEN,
                f"{_some(refused)} cannot be added by you: add only users you share a conversation with",
            )


def _some(users: list[str]) -> str:
    shown = ", ".join(users[:5])
    return shown + (f" and {len(users) - 5} more" if len(users) > 5 else "")
