"""Bodies and answers of the named-lease admin API (``/v1/leases/{name}``) and its OpenAPI paths;
the routes are in :mod:`.lease_routes`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from parley.server.lease_port import Lease

__all__ = ["MODELS", "LeaseAcquire", "LeaseOut", "lease_out", "lease_paths"]


class LeaseAcquire(msgspec.Struct, forbid_unknown_fields=True):
    """Take or renew the lease for ``holder`` (1 to 128 characters, no control characters: an id the
    process chose, e.g. host, pid and a random part) for ``ttl_s`` seconds (1 to 300)."""

    holder: str
    ttl_s: int = 15


class LeaseOut(msgspec.Struct):
    """A lease: its current ``holder``, ``until`` (ms since the epoch, the server's clock) and
    ``held``: whether the requester holds it now (always false for a ``GET``)."""

    name: str
    holder: str
    until: int
    held: bool


MODELS = [LeaseAcquire, LeaseOut]


def lease_out(lease: Lease, requester: str = "") -> LeaseOut:
    """The wire form of ``lease``; ``held`` if ``requester`` is its holder."""
    return LeaseOut(lease.name, lease.holder, lease.until, bool(requester) and lease.holder == requester)


def lease_paths(op: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """OpenAPI paths of the routes, built with :mod:`openapi`'s ``_op``."""
    release = op("Give a lease back (204; 409 lease_not_held)", 204, None, params=("name",))
    release["parameters"].append(
        {"name": "holder", "in": "query", "required": True, "schema": {"type": "string"}}
    )
    return {
        "/v1/leases/{name}": {
            "put": op("Take or renew a named lease", 200, LeaseOut, LeaseAcquire, params=("name",)),
            "get": op("Who holds a named lease (404 if nobody)", 200, LeaseOut, params=("name",)),
            "delete": release,
        },
    }
