"""Named-lease collection of the Mongo store (:class:`~parley.server.lease_port.LeaseStore`).

A role class over the store's one :class:`MongoConnection`: one document per lease,
``_id = app/name`` (a name has no ``/``, an app id neither), so the ``_id`` index is the only one
needed and makes a second insert of one lease fail. Every step is a single-document atomic
operation whose filter is the condition:

1. a renewal: ``update_one({_id, holder})`` sets ``until``;
2. otherwise a take-over: ``find_one_and_update({_id, until <= now}, $set, upsert)`` — it updates
   an expired lease, or inserts the lease when there is none;
3. ``DuplicateKeyError`` from that upsert means the document exists and is live (another holder's,
   or one that another acquire just inserted): the current document is read and returned.

Of concurrent take-overs of an expired lease one matches and the others' upserts fail on ``_id``;
of concurrent inserts the ``_id`` index keeps one. Should the live lease be released between
step 3's failure and its read, the steps run again (a bounded number of times).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from parley.server.lease_port import Lease
from parley.server.ports import StoreUnavailable
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_errors import guarded

__all__ = ["LeaseCollections"]

LEASES = "leases"
#: Rounds of renew / take over / read before giving up (only a release racing every read ends one).
_ROUNDS = 5


def _lease(d: Mapping[str, Any]) -> Lease:
    return Lease(str(d["app"]), str(d["name"]), str(d["holder"]), int(d["until"]))


class LeaseCollections:
    """The MongoDB adapter's lease role; every method is ``guarded``."""

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        return self._conn.db

    @guarded
    async def acquire_lease(self, app: str, name: str, holder: str, *, now: int, ttl_ms: int) -> Lease:
        """Renew, else take over (an upsert filtered on expiry), else read the live lease."""
        key, until = f"{app}/{name}", now + ttl_ms
        leases = self._db[LEASES]
        for _ in range(_ROUNDS):
            renewed = await leases.update_one({"_id": key, "holder": holder}, {"$set": {"until": until}})
            if renewed.matched_count:
                return Lease(app, name, holder, until)
            try:
                taken = await leases.find_one_and_update(
                    {"_id": key, "until": {"$lte": now}},
                    {"$set": {"app": app, "name": name, "holder": holder, "until": until}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:
                taken = await leases.find_one({"_id": key})
            if taken is not None:
                return _lease(taken)
        raise StoreUnavailable(f"mongo: lease {key!r} kept changing; retry")

    @guarded
    async def release_lease(self, app: str, name: str, holder: str) -> bool:
        """``delete_one`` filtered on the holder: of concurrent releases exactly one returns True."""
        result = await self._db[LEASES].delete_one({"_id": f"{app}/{name}", "holder": holder})
        return result.deleted_count > 0

    @guarded
    async def get_lease(self, app: str, name: str) -> Lease | None:
        """The stored lease; None if absent."""
        d = await self._db[LEASES].find_one({"_id": f"{app}/{name}"})
        return _lease(d) if d else None
