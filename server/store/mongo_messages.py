"""Messages on MongoDB: gap-free seq assignment without counters, and history reads.

How ``append`` assigns seqs (safe across any number of processes):

1. Repeats of one ``(app, conv, sender, cmid)`` inside the batch are folded
   onto their first occurrence.
2. One ``find`` per ``(app, conv, sender)`` with two or more messages in the
   batch (``cmid $in [...]``; typically a client's outbox resent at once) finds
   messages already stored: those are duplicates, returned as they are. Lone
   messages (the usual shape of a group-commit batch) skip the check: the
   unique index catches a duplicate among them for one extra round trip, which
   is what checking every one of them would cost on every batch.
3. The rest are inserted with ``insert_many(ordered=True)`` and seqs
   ``hint + 1, hint + 2, ...`` per conversation, where ``hint`` is a seq known
   to exist (an in-process cache, else the conversation's ``last_seq``).
   The unique ``(app, conv, seq)`` index arbitrates between writers; an
   ordered insert stops at the first failure, so a document with seq ``n + 1``
   is only ever inserted after ``n`` exists: no gaps, by construction.
4. On a duplicate-key error, documents before it are in. If the failing one
   collided on its cmid (a concurrent resend), it is a duplicate: fetch the
   original and go on with the rest from the same slot. If it collided on seq,
   re-read the conversation's real top with a seq *range* query (never
   sort + limit) and retry the rest from there.
5. The conversation documents' ``last_seq`` are raised with ``$max`` (also
   for duplicates, so a resend repairs an attempt that died before this step).

A counter (``$inc`` then insert) would leave a hole whenever a process dies
between the two steps; here a seq exists exactly when its message does.
The cache stays valid because messages are never deleted, only tombstoned.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from parley.server.models import Appended, NewMessage, StoredMessage
from parley.server.ports import StoreUnavailable
from parley.server.store.mongo_docs import (
    CONVERSATIONS,
    MESSAGES,
    NO_ID,
    from_new_message,
    stored,
    to_message,
)

__all__ = ["MessageLog"]

ConvKey = tuple[str, str]
DUPLICATE_KEY = 11000


class MessageLog:
    """The ``messages`` collection of one database (used by ``MongoStore``)."""

    def __init__(
        self, db: AsyncDatabase[dict[str, Any]], *, cache_size: int = 10_000, max_rounds: int = 1000
    ):
        self._messages = db[MESSAGES]
        self._convs = db[CONVERSATIONS]
        #: Highest seq known to exist per conversation (LRU-bounded).
        self._last: OrderedDict[ConvKey, int] = OrderedDict()
        self._cache_size = cache_size
        #: Insert rounds one append may take under contention before giving up.
        self._max_rounds = max_rounds

    def _remember(self, key: ConvKey, seq: int) -> None:
        if seq > self._last.get(key, 0):
            self._last[key] = seq
        self._last.move_to_end(key)
        if len(self._last) > self._cache_size:
            self._last.popitem(last=False)

    # append -----------------------------------------------------------
    async def append(self, batch: Sequence[NewMessage]) -> list[Appended]:
        """Store ``batch`` with dense per-conversation seqs; one :class:`Appended` per input, in input order.

        Follows the five steps of the module docstring: a repeat of ``(app, conv, sender, cmid)``
        (in the batch or already stored) comes back as the original with ``duplicate=True`` and
        stores nothing; the rest get the next seqs in input order. Raises ``StoreUnavailable``
        after ``max_rounds`` contended insert rounds, and driver errors other than duplicate keys
        as they are; messages inserted before a failure stay (a resend finds them as duplicates).
        """
        results: list[Appended | None] = [None] * len(batch)
        first: dict[tuple[str, str, str, str], int] = {}
        repeats: list[tuple[int, int]] = []
        for i, m in enumerate(batch):
            j = first.setdefault((m.app, m.conv, m.sender, m.cmid), i)
            if j != i:
                repeats.append((i, j))

        unique = [batch[i] for i in first.values()]
        # Independent reads: run them together.
        existing, last = await asyncio.gather(
            self._find_stored(unique), self._hints({(m.app, m.conv) for m in unique})
        )
        pending = []
        for key, i in first.items():
            if key in existing:
                results[i] = Appended(existing[key], duplicate=True)
            else:
                pending.append(i)
        if pending:
            await self._insert(batch, pending, results, last)
        for i, j in repeats:
            original = results[j]
            assert original is not None
            results[i] = Appended(original.message, duplicate=True)
        out = [r for r in results if r is not None]
        await self._raise_last_seq(out)
        return out

    async def _raise_last_seq(self, appended: list[Appended]) -> None:
        """``$max`` each conversation's ``last_seq`` to the top seq of this batch.

        Duplicates count too: if an earlier attempt stored messages and then
        failed (or its process died) before this step, its resend repairs it.
        """
        tops: dict[ConvKey, int] = {}
        for r in appended:
            key = (r.message.app, r.message.conv)
            tops[key] = max(tops.get(key, 0), r.message.seq)
        for key, seq in tops.items():
            self._remember(key, seq)
        await self._convs.bulk_write(
            [
                UpdateOne({"app": app, "conv": conv}, {"$max": {"last_seq": seq}})
                for (app, conv), seq in tops.items()
            ],
            ordered=False,
        )

    async def _find_stored(
        self, messages: Iterable[NewMessage]
    ) -> dict[tuple[str, str, str, str], StoredMessage]:
        """Stored messages among those of ``messages`` that share their (app, conv, sender)."""
        groups: dict[tuple[str, str, str], list[str]] = {}
        for m in messages:
            groups.setdefault((m.app, m.conv, m.sender), []).append(m.cmid)
        groups = {key: cmids for key, cmids in groups.items() if len(cmids) > 1}

        if not groups:
            return {}
        # One round trip for every group ($or of index-covered branches), not one per sender.
        branches = [
            {"app": app, "conv": conv, "sender": sender, "cmid": {"$in": cmids}}
            for (app, conv, sender), cmids in groups.items()
        ]
        query = branches[0] if len(branches) == 1 else {"$or": branches}
        docs = await self._messages.find(query, NO_ID).to_list()
        return {(d["app"], d["conv"], d["sender"], d["cmid"]): to_message(d) for d in docs}

    async def _insert(
        self,
        batch: Sequence[NewMessage],
        pending: list[int],
        results: list[Appended | None],
        last: dict[ConvKey, int],
    ) -> None:
        """Insert ``batch[i] for i in pending``; ``last`` holds a seq known to exist per conversation."""
        for _ in range(self._max_rounds):
            seqs = []
            nxt = dict(last)
            for i in pending:
                key = (batch[i].app, batch[i].conv)
                nxt[key] += 1
                seqs.append(nxt[key])
            docs = [from_new_message(batch[i], seq) for i, seq in zip(pending, seqs, strict=True)]
            error: dict[str, Any] | None = None
            try:
                await self._messages.insert_many(docs, ordered=True)
                done = len(docs)
            except BulkWriteError as exc:
                # An ordered insert reports exactly the write that stopped it.
                error = exc.details["writeErrors"][0]
                if error.get("code") != DUPLICATE_KEY:
                    raise
                done = error["index"]
            for i, seq in zip(pending[:done], seqs[:done], strict=True):
                m = batch[i]
                results[i] = Appended(stored(m, seq), duplicate=False)
                last[m.app, m.conv] = seq
            if error is None:
                break
            i = pending[done]
            m = batch[i]
            original = None if _seq_conflict(error) else await self._find_one(m)
            if original is not None:
                results[i] = Appended(original, duplicate=True)
                pending = pending[done + 1 :]
            else:
                last[m.app, m.conv] = await self._top(m.app, m.conv, last[m.app, m.conv])
                pending = pending[done:]
            if not pending:
                break
        else:
            raise StoreUnavailable(f"append gave up after {self._max_rounds} contended rounds")

    async def _hints(self, keys: set[ConvKey]) -> dict[ConvKey, int]:
        """A seq known to exist (or 0) for each conversation: cache, else ``last_seq``."""
        hints = {k: self._last[k] for k in keys if k in self._last}

        async def read(app: str, conv: str) -> int:
            doc = await self._convs.find_one({"app": app, "conv": conv}, {"_id": 0, "last_seq": 1})
            return int(doc.get("last_seq", 0)) if doc else 0

        missing = [k for k in keys if k not in hints]
        for key, seq in zip(missing, await asyncio.gather(*(read(*k) for k in missing)), strict=True):
            hints[key] = seq
        return hints

    async def _top(self, app: str, conv: str, above: int) -> int:
        """The conversation's highest seq, known to be ``>= above``; a range query."""
        cursor = self._messages.find({"app": app, "conv": conv, "seq": {"$gt": above}}, {"_id": 0, "seq": 1})
        return max([int(d["seq"]) async for d in cursor], default=above)

    async def _find_one(self, m: NewMessage) -> StoredMessage | None:
        query = {"app": m.app, "conv": m.conv, "sender": m.sender, "cmid": m.cmid}
        doc = await self._messages.find_one(query, NO_ID)
        return to_message(doc) if doc else None

    # reads and tombstones ---------------------------------------------
    async def get_messages(self, app: str, conv: str, first: int, last: int) -> list[StoredMessage]:
        # A seq range, sorted here: SecantusDB sorts by reading everything.
        """Messages with ``first <= seq <= last``, ascending by seq (sorted here, not by the server)."""
        query = {"app": app, "conv": conv, "seq": {"$gte": first, "$lte": last}}
        docs = await self._messages.find(query, NO_ID).to_list()
        return sorted((to_message(d) for d in docs), key=lambda m: m.seq)

    async def edit_message(
        self, app: str, conv: str, seq: int, body: dict[str, Any], edited: int
    ) -> StoredMessage | None:
        """Set ``body`` and ``edited`` of a message that is not recalled, atomically on its document.

        Returns the message after the edit; a recalled one unchanged (its tombstone); None if absent.
        """
        key = {"app": app, "conv": conv, "seq": seq}
        doc = await self._messages.find_one_and_update(
            {**key, "recalled": False},
            {"$set": {"body": body, "edited": edited}},
            projection=NO_ID,
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            # Absent, or recalled: a tombstone is returned unchanged.
            doc = await self._messages.find_one(key, NO_ID)
        return to_message(doc) if doc else None

    async def recall_message(self, app: str, conv: str, seq: int) -> StoredMessage | None:
        """See the port. The tombstone first, then its edit records (which carry the edited
        text) become ``{"target": seq}``; a retry redoes the second step (idempotent). Edit
        records exist only once ``edited`` is set, so an unedited message skips the scan."""
        doc = await self._messages.find_one_and_update(
            {"app": app, "conv": conv, "seq": seq},
            {"$set": {"body": {}, "recalled": True}},
            projection=NO_ID,
            return_document=ReturnDocument.AFTER,
        )
        if doc and doc.get("edited"):
            await self._messages.update_many(
                {"app": app, "conv": conv, "seq": {"$gt": seq}, "kind": "edit", "body.target": seq},
                {"$set": {"body": {"target": seq}, "recalled": True}},
            )
        return to_message(doc) if doc else None


def _seq_conflict(error: dict[str, Any]) -> bool:
    """True if a duplicate-key write error is on the seq index (else cmid, or unknown)."""
    pattern = error.get("keyPattern")
    if isinstance(pattern, dict):
        return "seq" in pattern
    return "index: app_conv_seq " in str(error.get("errmsg", ""))
