"""SQLite adapter of :class:`~parley.server.ports.Store` (the embedded default).

:class:`SQLiteStore` is only the assembly: one :class:`~parley.server.store.sqlite_worker.SQLiteWorker`
(the connection, its worker thread, the group commit of calls and the background
checkpointer) and one small class per role over it:

* ``sqlite_directory`` — apps, API keys, users (``Directory``)
* ``sqlite_conversations`` — conversations, members, reads (``Conversations``)
* ``sqlite_members`` — the bounded membership queries and the reach policy
* ``sqlite_messages`` — the message log, ``append`` and its seq cache (``MessageLog``)
* ``sqlite_service`` — tickets, profiles, users by role, knowledge
* ``sqlite_safety`` — the abuse controls (``SafetyStore``)
* ``sqlite_invites`` — group invitations (``InvitationStore``)

The roles' methods are bound onto the store once, at construction, so a call such as
``store.append`` is the role's own method: no extra await or frame on the hot path.
"""

from __future__ import annotations

from parley.server.store.sqlite_conversations import SQLiteConversations, migrate
from parley.server.store.sqlite_directory import SQLiteDirectory
from parley.server.store.sqlite_invites import INVITES_SCHEMA, InvitationTables
from parley.server.store.sqlite_members import MEMBER_QUERY_SCHEMA, MemberQueries
from parley.server.store.sqlite_messages import SQLiteMessageLog
from parley.server.store.sqlite_safety import SAFETY_SCHEMA, SafetyTables
from parley.server.store.sqlite_schema import SCHEMA
from parley.server.store.sqlite_service import SERVICE_SCHEMA, KnowledgeTables, ServiceTables
from parley.server.store.sqlite_worker import WAL_CHECKPOINT_PAGES, Db, SQLiteWorker

__all__ = ["SQLiteStore"]


def _init(db: Db) -> None:
    """Pragmas, every role's schema and the migrations (idempotent)."""
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    db.executescript(SCHEMA)
    db.executescript(SERVICE_SCHEMA)
    db.executescript(SAFETY_SCHEMA)
    db.executescript(INVITES_SCHEMA)
    db.executescript(MEMBER_QUERY_SCHEMA)
    migrate(db)


class SQLiteStore:
    """The :class:`~parley.server.ports.Store` port on a SQLite file (or ``":memory:"``).

    WAL journal, ``synchronous=NORMAL``: a crash may lose the last transactions
    but never corrupts the file. ``busy_timeout`` (seconds) bounds the wait for
    another process's write lock; past it a call raises ``StoreUnavailable``.
    """

    def __init__(self, path: str, *, busy_timeout: float = 5.0) -> None:
        #: The one connection and worker thread every role runs on.
        self.worker = worker = SQLiteWorker(path, busy_timeout=busy_timeout)
        directory = SQLiteDirectory(worker)
        self.create_app = directory.create_app
        self.get_app = directory.get_app
        self.list_apps = directory.list_apps
        self.add_api_key = directory.add_api_key
        self.app_for_key = directory.app_for_key
        self.upsert_user = directory.upsert_user
        self.get_user = directory.get_user
        self.set_last_seen = directory.set_last_seen
        conversations = SQLiteConversations(worker)
        self.create_conversation = conversations.create_conversation
        self.get_conversation = conversations.get_conversation
        self.update_conversation = conversations.update_conversation
        self.list_user_conversations = conversations.list_user_conversations
        self.get_member = conversations.get_member
        self.list_members = conversations.list_members
        self.add_members = conversations.add_members
        self.remove_members = conversations.remove_members
        self.set_member_role = conversations.set_member_role
        self.set_read = conversations.set_read
        self.set_reads = conversations.set_reads
        members = MemberQueries(worker)
        self.last_seen_of = members.last_seen_of
        self.shared_with = members.shared_with
        self.count_created_since = members.count_created_since
        self.count_joined_since = members.count_joined_since
        self.count_members = members.count_members
        self.member_page = members.member_page
        self.get_app_policy = members.get_app_policy
        self.set_app_policy = members.set_app_policy
        messages = SQLiteMessageLog(worker)
        self.append = messages.append
        self.get_messages = messages.get_messages
        self.edit_message = messages.edit_message
        self.recall_message = messages.recall_message
        service = ServiceTables(worker)
        self.list_users = service.list_users
        self.save_ticket = service.save_ticket
        self.get_ticket = service.get_ticket
        self.update_ticket = service.update_ticket
        self.list_tickets = service.list_tickets
        self.get_profile = service.get_profile
        self.merge_profile = service.merge_profile
        knowledge = KnowledgeTables(worker)
        self.replace_knowledge = knowledge.replace_knowledge
        self.delete_knowledge = knowledge.delete_knowledge
        self.list_knowledge = knowledge.list_knowledge
        self.knowledge_version = knowledge.knowledge_version
        safety = SafetyTables(worker)
        self.add_block = safety.add_block
        self.remove_block = safety.remove_block
        self.list_blocks = safety.list_blocks
        self.blocks_between = safety.blocks_between
        self.get_user_status = safety.get_user_status
        self.save_user_status = safety.save_user_status
        self.save_mute = safety.save_mute
        self.get_mute = safety.get_mute
        self.list_mutes = safety.list_mutes
        self.remove_mute = safety.remove_mute
        self.add_audit = safety.add_audit
        self.list_audit = safety.list_audit
        self.rotate_secret = safety.rotate_secret
        self.retired_secrets = safety.retired_secrets
        self.list_api_keys = safety.list_api_keys
        self.remove_api_key = safety.remove_api_key
        self.put_word_list = safety.put_word_list
        self.delete_word_list = safety.delete_word_list
        self.list_word_lists = safety.list_word_lists
        self.add_review = safety.add_review
        self.get_review = safety.get_review
        self.list_reviews = safety.list_reviews
        self.resolve_review = safety.resolve_review
        invites = InvitationTables(worker)
        self.put_invitations = invites.put_invitations
        self.get_invitation = invites.get_invitation
        self.delete_invitation = invites.delete_invitation
        self.list_invitations = invites.list_invitations
        self.count_invitations = invites.count_invitations
        self.delete_invitations_between = invites.delete_invitations_between
        self.purge_invitations = invites.purge_invitations

    async def open(self) -> None:
        """Connect and create the schema and indexes (idempotent)."""
        await self.worker.open(_init)

    async def close(self) -> None:
        """Stop the checkpointer and close the connection (queued calls still complete)."""
        await self.worker.close()

    async def ping(self) -> None:
        """Round-trip to the worker thread and the database."""
        await self.worker.run(lambda db: db.execute("SELECT 1").fetchone())
