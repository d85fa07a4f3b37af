"""The store's role ports: small interfaces, one per concern, each with its guarantees.

:class:`~parley.server.ports.Store` is their union (what an adapter implements); a
service depends on the roles it uses. Every method may raise ``StoreUnavailable``
(the store cannot be reached or timed out; the caller may retry). Common to all:

* Everything is keyed by app: no call ever sees another app's records.
* Records come back with plain Python types (no driver-specific ints).
* Bodies, meta and attributes must be JSON/BSON-safe (string keys, 64-bit integers).

Adapters: ``store/sqlite*.py`` (embedded default) and ``store/mongo*.py``; the contract
suites in ``tests/server/store/`` run against both. docs/ARCHITECTURE.md ("How to add
a port") says how a new role port is added.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, Protocol

from parley.server.models import (
    App,
    Appended,
    AppPolicy,
    Conversation,
    KnowledgeEntry,
    KnowledgeRevision,
    Member,
    NewMessage,
    Profile,
    StoredMessage,
    TagRecord,
    Ticket,
    User,
)

__all__ = ["Conversations", "Directory", "Knowledge", "Lifecycle", "MessageLog", "Profiles", "Tickets"]


class Lifecycle(Protocol):
    """Opening and closing the adapter's one shared connection (every role uses it)."""

    async def open(self) -> None:
        """Connect and create the schema and indexes (idempotent)."""

    async def close(self) -> None:
        """Release the connection; calls already queued still complete."""

    async def ping(self) -> None:
        """Round-trip to the store; raise ``StoreUnavailable`` if it fails."""


class Directory(Protocol):
    """Apps, their API keys and reach policy, and users.

    Guarantees: an app id is unique (``create_app`` of a taken id raises ``ValueError``);
    API keys are stored only as SHA-256 digests; ``upsert_user`` keeps ``created``;
    ``set_last_seen`` only moves forward (nodes may report out of order).
    """

    async def create_app(self, app: App) -> None:
        """Create ``app``; ``ValueError`` if the id is taken."""

    async def get_app(self, app: str) -> App | None:
        """The app; None if there is no such app."""

    async def list_apps(self) -> list[App]:
        """Every app, by id."""

    async def add_api_key(self, app: str, key_hash: str, created: int) -> None:
        """Store the SHA-256 hex digest of an API key (never the key)."""

    async def app_for_key(self, key_hash: str) -> App | None:
        """The app owning the key with this digest; None for an unknown (or revoked) key."""

    async def get_app_policy(self, app: str) -> AppPolicy | None:
        """The app's reach policy, if it set one."""

    async def set_app_policy(self, policy: AppPolicy) -> None:
        """Store (replace) the app's reach policy."""

    async def upsert_user(self, user: User) -> User:
        """Create the user or update ``name``, ``role`` and ``meta``; keeps ``created``."""

    async def get_user(self, app: str, user: str) -> User | None:
        """The user record; None if the user was never stored."""

    async def list_users(self, app: str, role: str) -> list[User]:
        """Users of ``app`` with ``role`` (e.g. the agents), by user id."""

    async def anonymise_user(self, app: str, user: str) -> bool:
        """Clear the user's personal fields (``name`` empty, ``meta`` ``{}``), keeping the row (its
        id is still named by memberships and messages), ``role``, ``created`` and ``last_seen``; one
        atomic write, idempotent, never creates a row. Whether the user has a record."""

    async def set_last_seen(self, app: str, user: str, ts: int) -> None:
        """Record when the user was last online; creates a bare user row if missing."""

    async def last_seen_of(self, app: str, users: Collection[str]) -> dict[str, int]:
        """``last_seen`` of those ``users`` that have a user record (others are absent)."""


class Conversations(Protocol):
    """Conversations, their members and read positions, and the membership queries.

    Guarantees:

    * A direct conversation is unique per ``direct_key``: creating it again stores
      nothing and returns the existing one.
    * ``add_members`` leaves existing members untouched; ``remove_members`` reports
      only users that were members.
    * Read positions only move forward; ``set_read`` for a non-member stores nothing
      and returns 0.
    * The bounded queries (``member_page``, ``count_members``, ``shared_with``,
      ``count_*_since``) are one round trip each, whatever the number of users.
    """

    async def create_conversation(self, conv: Conversation, members: Sequence[Member]) -> Conversation:
        """Create ``conv`` with ``members`` (a direct one that exists: return it, store nothing)."""

    async def get_conversation(self, app: str, conv: str) -> Conversation | None:
        """The conversation with its current ``last_seq``."""

    async def update_conversation(
        self, app: str, conv: str, *, name: str | None = None, meta: dict[str, Any] | None = None
    ) -> Conversation | None:
        """Set ``name`` and/or replace ``meta``; None if the conversation is absent."""

    async def list_user_conversations(self, app: str, user: str) -> list[tuple[Conversation, Member]]:
        """Every conversation ``user`` is a member of, with the membership row."""

    async def get_member(self, app: str, conv: str, user: str) -> Member | None:
        """``user``'s membership of ``conv``; None if not a member."""

    async def list_members(self, app: str, conv: str) -> list[Member]:
        """Every member of ``conv``, by join time then user id."""

    async def add_members(self, members: Sequence[Member]) -> list[Member]:
        """Add members; existing ones are left untouched. Returns those newly added."""

    async def remove_members(self, app: str, conv: str, users: Collection[str]) -> list[str]:
        """Remove members; returns the user ids that were members."""

    async def set_member_role(self, app: str, conv: str, user: str, role: str) -> bool:
        """Change a member's role; False if not a member."""

    async def set_read(self, app: str, conv: str, user: str, seq: int) -> int:
        """Move the read position forward to ``seq`` (never back); return the stored position."""

    async def set_reads(self, positions: Sequence[tuple[str, str, str, int]]) -> None:
        """``set_read`` for many ``(app, conv, user, seq)`` in one round trip (non-members ignored)."""

    async def member_page(self, app: str, conv: str, after: str, limit: int) -> list[Member]:
        """Up to ``limit`` members of ``conv`` with user ids after ``after``, by user id."""

    async def count_members(self, app: str, conv: str) -> int:
        """How many members ``conv`` has."""

    async def shared_with(self, app: str, user: str, candidates: Collection[str]) -> set[str]:
        """The ``candidates`` (other than ``user``) that share at least one conversation with ``user``."""

    async def count_created_since(self, app: str, user: str, since: int) -> int:
        """Groups and support conversations ``user`` created at or after ``since`` (ms): the creation
        quota. Direct conversations are not counted (one per pair; blocking governs them)."""

    async def count_joined_since(self, app: str, users: Collection[str], since: int) -> dict[str, int]:
        """Per user, memberships that began at or after ``since`` (ms); users with none are absent."""


class MessageLog(Protocol):
    """Each conversation's messages, numbered by a dense per-conversation ``seq``.

    Guarantees (the delivery contract rests on them):

    * ``append`` assigns each conversation's messages the next seqs
      (``last_seq + 1, + 2, ...``) atomically: no gaps and no duplicates, even with
      several processes appending to the same conversation concurrently.
    * ``append`` is idempotent on ``(app, conv, sender, cmid)``: a repeat returns the
      original message with ``duplicate=True`` and stores nothing.
    * Within one ``append`` call, messages of one conversation get increasing seqs in
      input order; results come back in input order.
    * Seqs start at 1 and are dense, so history pages are seq ranges.
    * Editing a recalled message leaves the tombstone unchanged and returns it.
    """

    async def append(self, batch: Sequence[NewMessage]) -> list[Appended]:
        """Persist messages, assigning seqs. Only for conversations made by
        ``create_conversation`` (SQLite raises ``LookupError`` for any other)."""

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


class Tickets(Protocol):
    """The tickets of support conversations (one per conversation).

    Guarantee: ``update_ticket`` is a compare-and-set on the stored state (and, with
    ``unrated``, on "no score yet"), so of two agents claiming at once exactly one wins.
    """

    async def save_ticket(self, ticket: Ticket) -> None:
        """Create or replace the ticket of a support conversation."""

    async def get_ticket(self, app: str, conv: str) -> Ticket | None:
        """The ticket of ``conv``; None if it is not a support conversation."""

    async def update_ticket(self, ticket: Ticket, expect: Collection[str], *, unrated: bool = False) -> bool:
        """Replace the ticket only if its stored state is one of ``expect`` (and, with ``unrated``,
        only if no score is stored yet). False if it was not."""

    async def list_tickets(
        self, app: str, *, state: str | None = None, agent: str | None = None
    ) -> list[Ticket]:
        """Tickets matching ``state`` and/or ``agent``, least recently updated first."""


class Profiles(Protocol):
    """Customer profiles: tags (by name), attributes and counters.

    Guarantee: ``merge_profile`` applies all its changes atomically (one step, never
    half of them).
    """

    async def get_profile(self, app: str, user: str) -> Profile | None:
        """The user's profile; None until something was merged into it."""

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
        """Add/replace tags, remove tags, set attributes and add to counters in one step;
        creates the profile if missing. Returns the profile after the change."""


class Knowledge(Protocol):
    """The knowledge base bots answer from: sources (ingested files) of chunks.

    Guarantees: the app's knowledge version increases on every change (so bots that
    poll it reload), and a source is replaced whole, never merged. Every replacement or delete
    of a source is recorded as a :class:`KnowledgeRevision` (the version it produced, the chunk
    count after it): SQLite in the same transaction; MongoDB right after the version bump (a
    crash between the two loses that one history row, never a chunk).
    """

    async def replace_knowledge(self, app: str, source: str, entries: Sequence[KnowledgeEntry]) -> int:
        """Make ``entries`` the whole content of ``source``; return the new version."""

    async def delete_knowledge(self, app: str, source: str) -> int:
        """Drop ``source``; returns the new knowledge version."""

    async def list_knowledge(self, app: str) -> tuple[int, list[KnowledgeEntry]]:
        """The app's knowledge version and every entry, by source then chunk id."""

    async def knowledge_version(self, app: str) -> int:
        """0 until the first ingest."""

    async def knowledge_history(self, app: str, source: str, limit: int) -> list[KnowledgeRevision]:
        """The newest ``limit`` revisions of ``source``, newest first (empty for a source never stored)."""
