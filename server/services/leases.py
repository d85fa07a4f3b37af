"""Named leases: which of several processes of one app is the active one.

Two bot processes of one app (a spare, or a restart overlapping the old process) must not both
answer: each asks for the app's lease (``support-bot``, say) every few seconds with its own
``holder`` id; the holder's ask renews the lease, the others' change nothing and tell them who
holds it, and the first to ask once it ran out takes it over (the store's guarantees:
:mod:`parley.server.lease_port`). The service validates the input and owns the clock: the
store is given ``now`` (ms) from :func:`~parley.server.ids.now_ms` (tests pass another clock), so
``until`` is in the server's time, never a client's.

A lease is advisory: it decides who *should* work; nothing else on the server checks it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from parley.proto.errors import ErrorCode
from parley.server.errors import ServiceError
from parley.server.ids import now_ms
from parley.server.lease_port import Lease, LeaseStore

__all__ = ["MAX_TTL_S", "LeaseService"]

#: The longest lease (seconds): a holder that dies keeps the others waiting at most this long.
MAX_TTL_S = 300
_NAME = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: 1 to 128 characters, none of them a control character (C0, DEL, C1).
_HOLDER = re.compile(r"[^\x00-\x1f\x7f-\x9f]{1,128}")


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise ServiceError(ErrorCode.LEASE_INVALID, "a lease name is 1 to 64 of A-Z a-z 0-9 . _ : -")


def _check_holder(holder: str) -> None:
    if not _HOLDER.fullmatch(holder):
        raise ServiceError(
            ErrorCode.LEASE_INVALID, "a holder is 1 to 128 characters without control characters"
        )


class LeaseService:
    """Acquire (take or renew), release and read an app's named leases (see the module docstring).

    ``clock`` gives the time in ms since the epoch (the wall clock by default).
    """

    def __init__(self, store: LeaseStore, *, clock: Callable[[], int] = now_ms) -> None:
        self._store = store
        self._clock = clock

    async def acquire(self, app: str, name: str, holder: str, ttl_s: int) -> Lease:
        """Take the lease for ``holder`` for ``ttl_s`` seconds (1 to :data:`MAX_TTL_S`) if it is free,
        expired or already ``holder``'s (a renewal); the lease afterwards, whoever holds it.
        ``lease_invalid`` for a bad name, holder or ttl."""
        _check_name(name)
        _check_holder(holder)
        if isinstance(ttl_s, bool) or not isinstance(ttl_s, int) or not 1 <= ttl_s <= MAX_TTL_S:
            raise ServiceError(
                ErrorCode.LEASE_INVALID, f"ttl_s is a whole number of seconds, 1 to {MAX_TTL_S}"
            )
        return await self._store.acquire_lease(app, name, holder, now=self._clock(), ttl_ms=ttl_s * 1000)

    async def release(self, app: str, name: str, holder: str) -> bool:
        """Give the lease back so another may take it at once; True if ``holder`` held it (expired or
        not) and it was removed, False otherwise. ``lease_invalid`` for a bad name or holder."""
        _check_name(name)
        _check_holder(holder)
        return await self._store.release_lease(app, name, holder)

    async def get(self, app: str, name: str) -> Lease:
        """The live lease; ``lease_not_found`` if there is none or it expired (nobody holds it).
        ``lease_invalid`` for a bad name."""
        _check_name(name)
        found = await self._store.get_lease(app, name)
        if found is None or found.until <= self._clock():
            raise ServiceError(ErrorCode.LEASE_NOT_FOUND, f"nobody holds the lease {name!r}")
        return found
