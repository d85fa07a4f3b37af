"""Named leases through :class:`~parley.sdk.admin.AdminClient`: several processes of one app agree
which one is active (docs/ADMIN_API.md "Leases").

Each process picks a ``holder`` id of its own (host, pid and a random part) and calls
:meth:`LeaseOps.acquire_lease` every ``ttl_s / 3`` seconds or so: while it holds the lease the call
renews it (``held`` true); otherwise it learns who holds it, and takes it over at the first call
after the holder stopped renewing. ``until`` is in the server's clock (ms): count a lease held
from the moment the request was *sent*, on the process's own monotonic clock, for ``ttl_s``
seconds at most. Bad input raises :class:`~parley.sdk.errors.AdminError` ``lease_invalid``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from parley.proto.errors import ErrorCode
from parley.sdk.errors import AdminError

__all__ = ["LeaseInfo", "LeaseOps"]


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    """A named lease: its current ``holder``, ``until`` (ms since the epoch, the server's clock) and
    ``held``: whether the caller holds it now (always false from :meth:`LeaseOps.lease`)."""

    name: str
    holder: str
    until: int
    held: bool


class LeaseOps:
    """Mixed into :class:`~parley.sdk.admin.AdminClient`."""

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def acquire_lease(self, name: str, holder: str, *, ttl_s: int = 15) -> LeaseInfo:
        """Take lease ``name`` for ``holder`` for ``ttl_s`` seconds (1 to 300) if it is free, expired or
        already ``holder``'s (a renewal); the lease afterwards — ``held`` says whether it is yours."""
        data = await self._call("PUT", _path(name), json={"holder": holder, "ttl_s": ttl_s})
        return _lease(data)

    async def release_lease(self, name: str, holder: str) -> bool:
        """Give lease ``name`` back so another process may take it at once; False if ``holder`` does
        not hold it (``lease_not_held``: another does, or nobody)."""
        try:
            await self._call("DELETE", _path(name), params={"holder": holder})
        except AdminError as exc:
            if exc.code == ErrorCode.LEASE_NOT_HELD:
                return False
            raise
        return True

    async def lease(self, name: str) -> LeaseInfo | None:
        """Who holds lease ``name`` now; None if nobody does (never taken, released or expired)."""
        try:
            return _lease(await self._call("GET", _path(name)))
        except AdminError as exc:
            if exc.code == ErrorCode.LEASE_NOT_FOUND:
                return None
            raise


def _path(name: str) -> str:
    return f"/v1/leases/{quote(name, safe='')}"


def _lease(data: Any) -> LeaseInfo:
    return LeaseInfo(str(data["name"]), str(data["holder"]), int(data["until"]), bool(data["held"]))
