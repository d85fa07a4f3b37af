"""The two ports the server depends on, with the guarantees adapters must keep.

``Store`` — durable state (apps, users, conversations, members, messages), with
the abuse controls' role port :class:`~parley.server.safety_port.SafetyStore`
and the invitations' :class:`~parley.server.invites_port.InvitationStore`.
Adapters: ``store/sqlite.py`` (embedded default) and ``store/mongo.py``.

``Broker`` — fan-out of pre-encoded frames between gateway nodes, plus a small
shared presence registry. Adapters: ``broker/memory.py`` (single node) and
``broker/redis.py``.

One contract suite (``tests/server/store/test_contract.py`` and
``tests/server/broker/test_contract.py``) runs against every adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Protocol

# The failures adapters raise; defined in the server's exception tree (server/errors.py).
from parley.server.errors import BrokerUnavailable, StoreUnavailable
from parley.server.invites_port import InvitationStore
from parley.server.models import (
    App,
    Appended,
    AppPolicy,
    Conversation,
    KnowledgeEntry,
    Member,
    NewMessage,
    Profile,
    StoredMessage,
    TagRecord,
    Ticket,
    User,
)
from parley.server.safety_port import SafetyStore

__all__ = [
    "Broker",
    "BrokerUnavailable",
    "DownHandler",
    "GapHandler",
    "MessageHandler",
    "Store",
    "StoreUnavailable",
]


class Store(SafetyStore, InvitationStore, Protocol):
    """Durable state. Every method may raise :class:`StoreUnavailable`.

    Guarantees:

    * ``append`` assigns each conversation's messages the next seqs
      (``last_seq + 1, + 2, ...``) atomically: no gaps and no duplicates, even
      with several processes appending to the same conversation concurrently.
    * ``append`` is idempotent on ``(app, conv, sender, cmid)``: a repeat
      returns the original message with ``duplicate=True`` and stores nothing.
    * Within one ``append`` call, messages of one conversation get increasing
      seqs in input order; results come back in input order.
    * Seqs start at 1 and are dense, so history pages are seq ranges.
    * Read positions only move forward; ``set_read`` for a non-member stores
      nothing and returns 0.
    * Records come back with plain Python types (no driver-specific ints).
    * Message bodies must be JSON/BSON-safe (string keys, 64-bit integers).
    * Editing a recalled message leaves the tombstone unchanged and returns it.
    """

    async def open(self) -> None:
        """Connect and create the schema and indexes (idempotent)."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Round-trip to the store; raise :class:`StoreUnavailable` if it fails."""

    # apps -------------------------------------------------------------
    async def create_app(self, app: App) -> None: ...

    async def get_app(self, app: str) -> App | None: ...

    async def list_apps(self) -> list[App]: ...

    async def add_api_key(self, app: str, key_hash: str, created: int) -> None:
        """Store the SHA-256 hex digest of an API key (never the key)."""

    async def app_for_key(self, key_hash: str) -> App | None: ...

    # users ------------------------------------------------------------
    async def upsert_user(self, user: User) -> User:
        """Create the user or update ``name``, ``role`` and ``meta``; keeps ``created``."""

    async def get_user(self, app: str, user: str) -> User | None: ...

    async def list_users(self, app: str, role: str) -> list[User]:
        """Users of ``app`` with ``role`` (e.g. the agents), by user id."""

    async def set_last_seen(self, app: str, user: str, ts: int) -> None:
        """Record when the user was last online; creates a bare user row if missing."""

    # conversations ----------------------------------------------------
    async def create_conversation(self, conv: Conversation, members: Sequence[Member]) -> Conversation:
        """Create ``conv`` with ``members``.

        For a direct conversation whose ``direct_key`` already exists in the
        app, store nothing and return the existing conversation.
        """

    async def get_conversation(self, app: str, conv: str) -> Conversation | None:
        """The conversation with its current ``last_seq``."""

    async def update_conversation(
        self, app: str, conv: str, *, name: str | None = None, meta: dict[str, Any] | None = None
    ) -> Conversation | None: ...

    async def list_user_conversations(self, app: str, user: str) -> list[tuple[Conversation, Member]]:
        """Every conversation ``user`` is a member of, with the membership row."""

    # members ----------------------------------------------------------
    async def get_member(self, app: str, conv: str, user: str) -> Member | None: ...

    async def list_members(self, app: str, conv: str) -> list[Member]: ...

    async def add_members(self, members: Sequence[Member]) -> list[Member]:
        """Add members; existing ones are left untouched. Returns those newly added."""

    # bounded membership queries (one round trip each, whatever the number of users)
    async def member_page(self, app: str, conv: str, after: str, limit: int) -> list[Member]:
        """Up to ``limit`` members of ``conv`` with user ids after ``after``, by user id."""

    async def count_members(self, app: str, conv: str) -> int:
        """How many members ``conv`` has."""

    async def last_seen_of(self, app: str, users: Collection[str]) -> dict[str, int]:
        """``last_seen`` of those ``users`` that have a user record (others are absent)."""

    async def shared_with(self, app: str, user: str, candidates: Collection[str]) -> set[str]:
        """The ``candidates`` (other than ``user``) that share at least one conversation with ``user``."""

    async def count_created_since(self, app: str, user: str, since: int) -> int:
        """Groups and support conversations ``user`` created at or after ``since`` (ms): the creation
        quota. Direct conversations are not counted (one per pair; blocking governs them)."""

    async def get_app_policy(self, app: str) -> AppPolicy | None:
        """The app's reach policy, if it set one."""

    async def set_app_policy(self, policy: AppPolicy) -> None:
        """Store (replace) the app's reach policy."""

    async def count_joined_since(self, app: str, users: Collection[str], since: int) -> dict[str, int]:
        """Per user, memberships that began at or after ``since`` (ms); users with none are absent.

        The being-added quota."""

    async def remove_members(self, app: str, conv: str, users: Collection[str]) -> list[str]:
        """Remove members; returns the user ids that were members."""

    async def set_member_role(self, app: str, conv: str, user: str, role: str) -> bool:
        """Change a member's role; False if not a member."""

    async def set_read(self, app: str, conv: str, user: str, seq: int) -> int:
        """Move the read position forward to ``seq`` (never back); return the stored position."""

    async def set_reads(self, positions: Sequence[tuple[str, str, str, int]]) -> None:
        """``set_read`` for many ``(app, conv, user, seq)`` in one round trip (non-members ignored)."""

    # customer service -------------------------------------------------
    async def save_ticket(self, ticket: Ticket) -> None:
        """Create or replace the ticket of a support conversation."""

    async def get_ticket(self, app: str, conv: str) -> Ticket | None: ...

    async def update_ticket(self, ticket: Ticket, expect: Collection[str], *, unrated: bool = False) -> bool:
        """Replace the ticket only if its stored state is one of ``expect`` (compare-and-set,
        so two agents claiming at once cannot both win) and, with ``unrated``, only if no
        score is stored yet (so two rates at once count once). False if it was not."""

    async def list_tickets(
        self, app: str, *, state: str | None = None, agent: str | None = None
    ) -> list[Ticket]:
        """Tickets matching ``state`` and/or ``agent``, least recently updated first."""

    # profiles ---------------------------------------------------------
    async def get_profile(self, app: str, user: str) -> Profile | None: ...

    async def merge_profile(
        self,
        app: str,
        user: str,
        *,
        set_tags: Sequence[TagRecord] = (),
        remove_tags: Collection[str] = (),
        attributes: Mapping[str, Any] | None = None,
        counters: Mapping[str, int] | None = None,
        updated: int = 0,
    ) -> Profile:
        """Atomically add/replace tags (by name), remove tags, set attributes and add to
        counters; creates the profile if missing. Returns the profile after the change."""

    # knowledge base ---------------------------------------------------
    async def replace_knowledge(self, app: str, source: str, entries: Sequence[KnowledgeEntry]) -> int:
        """Make ``entries`` the whole content of ``source`` (one ingested file) and return the
        app's new knowledge version (it increases on every change, so bots can reload)."""

    async def delete_knowledge(self, app: str, source: str) -> int:
        """Drop ``source``; returns the new knowledge version."""

    async def list_knowledge(self, app: str) -> tuple[int, list[KnowledgeEntry]]:
        """The app's knowledge version and every entry, by source then chunk id."""

    async def knowledge_version(self, app: str) -> int:
        """0 until the first ingest."""

    # messages ---------------------------------------------------------
    async def append(self, batch: Sequence[NewMessage]) -> list[Appended]:
        """Persist messages, assigning seqs. See the class guarantees.

        Only for conversations made by ``create_conversation`` (SQLite raises
        ``LookupError`` for any other)."""

    async def get_messages(self, app: str, conv: str, first: int, last: int) -> list[StoredMessage]:
        """Messages with ``first <= seq <= last``, ascending by seq."""

    async def edit_message(
        self, app: str, conv: str, seq: int, body: dict[str, Any], edited: int
    ) -> StoredMessage | None:
        """Replace the body of a message (not a recalled one); None if absent."""

    async def recall_message(self, app: str, conv: str, seq: int) -> StoredMessage | None:
        """Tombstone a message: empty body, ``recalled=True``; None if absent. Its ``edit``
        records (``body.target == seq``) become ``{"target": seq}`` with ``recalled=True``, so
        nothing of the recalled content stays readable. Idempotent: recalling again re-scrubs."""


#: Called by a broker for every message on a subscribed channel. Must not block.
MessageHandler = Callable[[str, bytes], None]
#: Called by a broker as soon as its subscription is lost (before it is back and reports
#: the gap): until then nothing on any channel arrives, membership changes included.
DownHandler = Callable[[], None]
#: Called by a broker, once it is healthy again, when messages may have been
#: lost: with the channels whose publishes were dropped, or with ``None`` when
#: the subscription itself was interrupted (any channel may have lost messages).
GapHandler = Callable[[Collection[str] | None], None]


class Broker(Protocol):
    """Fan-out between nodes and a shared presence registry.

    Guarantees:

    * ``publish`` is at-most-once: a message may be lost (e.g. while Redis
      restarts) but is never duplicated. Receivers detect gaps by seq and
      refill from the store.
    * Messages from one publisher on one channel arrive in publish order.
    * The handler receives exactly the bytes published (adapters never
      re-encode), only for channels this broker is subscribed to.
    * Subscriptions survive a reconnect to the backing service: the adapter
      re-subscribes by itself. ``subscribe`` during an outage does not raise:
      the channel is recorded and becomes active on reconnect (refusing users
      during a short Redis blip would be worse than a brief gap that sync repairs).
    * ``flush`` means "handed to the backing service or dropped", not delivered.
    * Presence methods may raise :class:`BrokerUnavailable`. ``presence_remove``
      reports "went offline" only for a registered connection, so a double
      remove never reports offline twice.
    """

    async def start(
        self, handler: MessageHandler, on_gap: GapHandler | None = None, on_down: DownHandler | None = None
    ) -> None:
        """Connect and start delivering subscribed channels to ``handler``.

        ``on_gap`` hears of possible losses (see :data:`GapHandler`), so that
        receivers can be told to repair them from the store right away: messages by
        sync, and membership caches (which authorise sends) by re-reading them.
        ``on_down`` hears at once that the subscription is lost (every such call is
        followed by ``on_gap(None)`` once it is back), so that state only the
        subscription keeps current stops being trusted meanwhile. An adapter that
        cannot lose its subscription never calls either.
        """

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Round-trip to the backing service; raise :class:`BrokerUnavailable` if it fails."""

    async def subscribe(self, channels: Collection[str]) -> None:
        """Subscribe (idempotent). Returns once the subscription is active."""

    async def unsubscribe(self, channels: Collection[str]) -> None: ...

    def publish(self, channel: str, data: bytes) -> None:
        """Queue ``data`` for ``channel`` without waiting; writes are batched (pipelined)."""

    async def flush(self) -> None:
        """Wait until everything published so far has been handed to the backing service."""

    async def presence_add(self, key: str, conn: str, ttl: float) -> bool:
        """Register live connection ``conn`` for ``key``; True if ``key`` just came online."""

    async def presence_remove(self, key: str, conn: str) -> bool:
        """Drop ``conn`` from ``key``; True if ``key`` has no live connection left."""

    async def presence_refresh(self, entries: Collection[tuple[str, str]], ttl: float) -> None:
        """Extend the lifetime of ``(key, conn)`` entries (a node's heartbeat)."""

    async def presence_online(self, keys: Collection[str]) -> set[str]:
        """The subset of ``keys`` with at least one live connection."""
