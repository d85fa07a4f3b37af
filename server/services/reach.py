"""Who may reach whom: watch a user's presence, add a user to a conversation.

One place for these decisions, so that every path (gateway frames, admin API) asks the
same question and a new rule lands once. Blocking (a user blocks another: no adding, no
presence either way) is the other half, decided per pair by
:class:`~parley.server.services.safety.SafetyService` before these app-wide policies.

Policies (``Settings``):

The node's ``Settings`` give the defaults; an app may set its own (admin API
``PUT /v1/policy``), read from the store on each check so every node agrees at once.

* presence — ``shared`` (default): a user may watch themselves and users they share at
  least one conversation with; ``all``: anyone in the app.
* adding — ``anyone`` (default): any user may be put in a group by its managers;
  ``contacts``: only users who already share a conversation with the one adding them;
  ``invite``: contacts are added, anyone else gets an invitation to accept or decline
  (:mod:`parley.server.services.invites`; this class lets them pass).

Quotas (per ``quota_window``): a user creates at most ``conv_create_quota`` groups and
support conversations, and is added to conversations by others at most ``join_quota``
times — so no one can pull a user into tens of thousands of groups. A direct
conversation is one per pair and is not counted (blocking governs it). The app's back-end
(admin API) is restricted by none of these.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from parley.proto.errors import ErrorCode
from parley.server.errors import ServiceError
from parley.server.ids import now_ms
from parley.server.models import AppPolicy
from parley.server.store_ports import Conversations, Directory

__all__ = ["ADD_POLICIES", "PRESENCE_POLICIES", "ReachPolicy"]


class ReachStore(Conversations, Directory, Protocol):
    """The role ports this service uses: membership queries and app policies."""


PRESENCE_POLICIES = frozenset({"shared", "all"})
ADD_POLICIES = frozenset({"anyone", "contacts", "invite"})


class ReachPolicy:
    """Answers "may ``actor`` watch / add these users?" in one store round trip per request."""

    def __init__(
        self,
        store: ReachStore,
        *,
        presence: str = "shared",
        add: str = "anyone",
        create_quota: int = 100,
        join_quota: int = 200,
        window: float = 3600.0,
    ) -> None:
        if presence not in PRESENCE_POLICIES:
            raise ValueError(f"presence policy must be one of {sorted(PRESENCE_POLICIES)}")
        if add not in ADD_POLICIES:
            raise ValueError(f"add policy must be one of {sorted(ADD_POLICIES)}")
        self._store = store
        self._presence = presence
        self._add = add
        self._create_quota = create_quota
        self._join_quota = join_quota
        self._window_ms = int(window * 1000)

    async def policy(self, app: str) -> AppPolicy:
        """The app's effective policy: its own choices, the node's defaults for the rest."""
        own = await self._store.get_app_policy(app)
        return AppPolicy(app, (own and own.presence) or self._presence, (own and own.add) or self._add)

    async def set_policy(self, app: str, *, presence: str | None = None, add: str | None = None) -> AppPolicy:
        """Change the app's policy (``None`` leaves a field as it is); returns the effective one."""
        if presence is not None and presence not in PRESENCE_POLICIES:
            raise ServiceError(
                ErrorCode.INVALID_REQUEST, f"presence must be one of {sorted(PRESENCE_POLICIES)}"
            )
        if add is not None and add not in ADD_POLICIES:
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"add must be one of {sorted(ADD_POLICIES)}")
        own = await self._store.get_app_policy(app) or AppPolicy(app)
        await self._store.set_app_policy(
            AppPolicy(app, own.presence if presence is None else presence, own.add if add is None else add)
        )
        return await self.policy(app)

    async def require_watchable(self, app: str, watcher: str, users: Collection[str]) -> None:
        """Raise ``forbidden`` unless ``watcher`` may watch every one of ``users``."""
        others = [u for u in users if u != watcher]
        allowed = set(others)
        if others and (await self.policy(app)).presence == "shared":
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
        if others and (await self.policy(app)).add == "contacts":
            allowed = await self._store.shared_with(app, actor, others)
        refused = [u for u in others if u not in allowed]
        if refused:
            raise ServiceError(
                ErrorCode.FORBIDDEN,
                f"{_some(refused)} cannot be added by you: add only users you share a conversation with",
            )

    async def check_create(self, app: str, actor: str, kind: str, members: Collection[str]) -> None:
        """May ``actor`` create a ``kind`` conversation with ``members`` now? Raises if not."""
        if kind == "direct":
            return
        since = now_ms() - self._window_ms
        if await self._store.count_created_since(app, actor, since) >= self._create_quota:
            raise ServiceError(
                ErrorCode.LIMIT_EXCEEDED,
                f"at most {self._create_quota} conversations per {self._window_ms // 1000} s; try later",
            )
        await self.check_add(app, actor, members)

    async def check_add(self, app: str, actor: str, users: Collection[str]) -> None:
        """May ``actor`` add ``users`` to a group now (policy and the being-added quota)? Raises if not."""
        others = [u for u in dict.fromkeys(users) if u != actor]
        if not others:
            return
        await self.require_addable(app, actor, others)
        await self.check_join_quota(app, others)

    async def check_join_quota(self, app: str, users: Collection[str]) -> None:
        """Raise ``limit_exceeded`` if any of ``users`` joined ``join_quota`` conversations within
        the window (also checked when a user accepts an invitation: it joins them all the same)."""
        others = list(dict.fromkeys(users))
        joined = await self._store.count_joined_since(app, others, now_ms() - self._window_ms)
        full = [u for u in others if joined.get(u, 0) >= self._join_quota]
        if full:
            raise ServiceError(
                ErrorCode.LIMIT_EXCEEDED,
                f"{_some(full)} joined {self._join_quota} conversations within "
                f"{self._window_ms // 1000} s; try later",
            )


def _some(users: list[str]) -> str:
    shown = ", ".join(users[:5])
    return shown + (f" and {len(users) - 5} more" if len(users) > 5 else "")
