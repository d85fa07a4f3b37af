"""Sensitive words per app: the lists the app manages, screening of what users write, and the
review queue that user reports and flagged content feed.

Each list has an action: ``refuse`` (the write fails with ``content_refused``), ``mask``
(matched characters become ``*``) or ``flag`` (accepted as written, and queued for the app's
moderators). Screening covers every string in a message body (send and edit) and a
conversation's name and meta; the matcher is :mod:`parley.server.wordfilter`.

Screening runs on the send fast path, so it is synchronous over a per-app compiled matcher
cached on the node. A write that has to ask the store first (the first into a conversation
on a connection) calls :meth:`WordFilter.ensure`, which loads or refreshes the app's lists;
a cached entry older than ``ttl`` is refreshed in the background while the old one keeps
serving, so list changes made on another node apply here within ``ttl`` seconds (at once on
the node that made them).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from parley.proto.errors import ErrorCode
from parley.server.errors import ServiceError
from parley.server.ids import now_ms
from parley.server.safety_models import ReviewItem, WordList
from parley.server.safety_port import SafetyStore
from parley.server.store_ports import MessageLog
from parley.server.wordfilter import WordMatcher

__all__ = ["ACTIONS", "Screened", "WordFilter"]


class WordStore(SafetyStore, MessageLog, Protocol):
    """The role ports this service uses: word lists, the review queue and messages."""


log = logging.getLogger("parley.words")

ACTIONS = ("refuse", "mask", "flag")
#: Longest excerpt kept in a review item, in characters.
EXCERPT = 200
#: Longest listed word, in characters.
MAX_WORD = 100


@dataclass(frozen=True, slots=True)
class Screened:
    """What screening made of a value: the value to store (masked, or the very same object when
    nothing changed) and the names of the ``flag`` lists that matched."""

    value: Any
    flags: tuple[str, ...] = ()


@dataclass(slots=True)
class _Compiled:
    matcher: WordMatcher
    actions: dict[str, str]
    loaded: float = field(default_factory=time.monotonic)


def _strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _strings(v, out)
    elif isinstance(value, list):
        for v in value:
            _strings(v, out)


def _excerpt(value: Any) -> str:
    found: list[str] = []
    _strings(value, found)
    return " ".join(found)[:EXCERPT]


class WordFilter:
    """The app's word lists (admin API), screening (gateway), and the review queue."""

    def __init__(self, store: WordStore, *, ttl: float, max_lists: int, max_words: int) -> None:
        self._store = store
        self._ttl = ttl
        self._max_lists = max_lists
        self._max_words = max_words
        self._compiled: dict[str, _Compiled] = {}
        self._refreshing: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        #: The time part of the last review item id queued by this node (ms).
        self._last_stamp = 0

    # ------------------------------------------------------------ lists
    async def lists(self, app: str) -> list[WordList]:
        """The app's lists, by name."""
        return await self._store.list_word_lists(app)

    async def put_list(self, app: str, name: str, action: str, words: Sequence[str]) -> WordList:
        """Create or replace a list (duplicates and blank words dropped)."""
        if action not in ACTIONS:
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"action must be one of {list(ACTIONS)}")
        clean = [w for w in dict.fromkeys(w.strip() for w in words) if w]
        if len(clean) > self._max_words:
            raise ServiceError(ErrorCode.LIMIT_EXCEEDED, f"a list holds at most {self._max_words} words")
        if any(len(w) > MAX_WORD for w in clean):
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"a word is at most {MAX_WORD} characters")
        existing = await self._store.list_word_lists(app)
        if name not in {w.name for w in existing} and len(existing) >= self._max_lists:
            raise ServiceError(ErrorCode.LIMIT_EXCEEDED, f"an app has at most {self._max_lists} word lists")
        record = WordList(app, name, action, clean, now_ms())
        await self._store.put_word_list(record)
        await self._load(app)
        return record

    async def delete_list(self, app: str, name: str) -> None:
        """Drop a list (``not_found`` if there is none)."""
        if not await self._store.delete_word_list(app, name):
            raise ServiceError(ErrorCode.NOT_FOUND, f"no word list {name!r}")
        await self._load(app)

    # -------------------------------------------------------- screening
    async def ensure(self, app: str) -> None:
        """Have the app's lists compiled on this node (loading them if absent)."""
        if app not in self._compiled:
            await self._load(app)

    async def screen_now(self, app: str, value: Any) -> Screened:
        """:meth:`ensure`, then :meth:`screen` (for writes that are not on the fast path)."""
        await self.ensure(app)
        return self.screen(app, value)

    def screen(self, app: str, value: Any) -> Screened:
        """Screen a string or a free-form value (every string inside it). Raises ``ServiceError``
        (``content_refused``) if a ``refuse`` list matches."""
        compiled = self._compiled.get(app)
        if compiled is None:
            return Screened(value)
        if time.monotonic() - compiled.loaded > self._ttl:
            self._refresh_soon(app)
        if not compiled.matcher:
            return Screened(value)
        flags: dict[str, None] = {}
        result = self._screen(compiled, value, flags)
        return Screened(result, tuple(flags))

    def _screen(self, compiled: _Compiled, value: Any, flags: dict[str, None]) -> Any:
        if isinstance(value, str):
            hits = compiled.matcher.find(value)
            if not hits:
                return value
            masked = []
            for hit in hits:
                action = compiled.actions.get(hit.key, "flag")
                if action == "refuse":
                    raise ServiceError(
                        ErrorCode.CONTENT_REFUSED,
                        f"the text contains a word the app does not allow ({hit.key})",
                    )
                if action == "mask":
                    masked.append(hit)
                else:
                    flags[hit.key] = None
            return compiled.matcher.mask(value, masked) if masked else value
        if isinstance(value, dict):
            changed = {k: self._screen(compiled, v, flags) for k, v in value.items()}
            same = all(changed[k] is v for k, v in value.items())
            return value if same else changed
        if isinstance(value, list):
            items = [self._screen(compiled, v, flags) for v in value]
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        return value

    def _refresh_soon(self, app: str) -> None:
        if app in self._refreshing:
            return
        self._refreshing.add(app)
        task = asyncio.get_running_loop().create_task(self._refresh(app))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _refresh(self, app: str) -> None:
        try:
            await self._load(app)
        except Exception:
            log.warning("word lists of %s not refreshed; the cached ones stay", app)
        finally:
            self._refreshing.discard(app)

    async def _load(self, app: str) -> None:
        lists = await self._store.list_word_lists(app)
        matcher = WordMatcher((word, w.name) for w in lists for word in w.words)
        self._compiled[app] = _Compiled(matcher, {w.name: w.action for w in lists})

    # ----------------------------------------------------- review queue
    def flag_later(
        self, app: str, conv: str, seq: int, author: str, flags: Sequence[str], value: Any
    ) -> None:
        """Queue flagged content for review without making the caller wait (errors are logged)."""
        task = asyncio.get_running_loop().create_task(self._flag(app, conv, seq, author, flags, value))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flag(
        self, app: str, conv: str, seq: int, author: str, flags: Sequence[str], value: Any
    ) -> None:
        reason = "word list " + ", ".join(flags)
        key = f"filter:{conv}:{seq}:{now_ms() if not seq else ''}"
        try:
            await self._queue(app, key, conv=conv, seq=seq, author=author, source="filter", reason=reason,
                              excerpt=_excerpt(value))  # fmt: skip
        except Exception:
            log.warning("flagged content of %s not queued for review", app)

    async def report(self, app: str, reporter: str, conv: str, seq: int, reason: str) -> None:
        """``reporter`` (a member) reports message ``seq`` of ``conv``; one report per reporter and
        message (a repeat is accepted and stores nothing)."""
        found = await self._store.get_messages(app, conv, seq, seq)
        if not found or found[0].kind not in ("text", "rich", "custom"):
            raise ServiceError(ErrorCode.NOT_FOUND, f"no message {seq} in {conv} to report")
        m = found[0]
        await self._queue(app, f"report:{conv}:{seq}:{reporter}", conv=conv, seq=seq, author=m.sender,
                          source="report", reporter=reporter, reason=reason, excerpt=_excerpt(m.body))  # fmt: skip

    async def _queue(self, app: str, key: str, **fields: Any) -> bool:
        ts = now_ms()
        # The id orders the queue: strictly increasing on this node, so items queued within
        # one millisecond are listed oldest first too (as the audit log's ids).
        self._last_stamp = stamp = max(ts, self._last_stamp + 1)
        item = ReviewItem(app, f"{stamp:013d}-{os.urandom(4).hex()}", key, ts=ts, **fields)
        return await self._store.add_review(item)

    async def reviews(self, app: str, *, state: str, after: str, limit: int) -> tuple[list[ReviewItem], bool]:
        """A page of the review queue in ``state`` (``open`` | ``resolved``), oldest first."""
        items = await self._store.list_reviews(app, state=state, after=after, limit=limit + 1)
        return items[:limit], len(items) > limit

    async def review(self, app: str, review_id: str) -> ReviewItem | None:
        """One item of the app's review queue; None if there is no such item."""
        return await self._store.get_review(app, review_id)

    async def resolve(self, app: str, review_id: str, *, outcome: str, by: str) -> ReviewItem:
        """Close an open item (``not_found``; ``invalid_request`` if already resolved)."""
        item = await self._store.get_review(app, review_id)
        if item is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no review item {review_id}")
        if not await self._store.resolve_review(app, review_id, outcome=outcome, by=by, ts=now_ms()):
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"review item {review_id} is already resolved")
        done = await self._store.get_review(app, review_id)
        assert done is not None
        return done
