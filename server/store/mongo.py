"""MongoDB adapter of :class:`~parley.server.ports.Store`, on ``pymongo.AsyncMongoClient``.

No transactions are used (a standalone ``mongod`` has none): every guarantee
rests on unique indexes (see :mod:`.mongo_docs`) and single-document atomic
updates (``$max`` for read positions and ``last_seq``). Message seqs are
assigned in :mod:`.mongo_messages`.

:class:`MongoStore` is only the assembly: one :class:`~parley.server.store.mongo_conn.MongoConnection`
(the client and its timeouts) and one small class per role over it:

* ``mongo_directory`` — apps, API keys, users (``Directory``)
* ``mongo_conversations`` — conversations, members, reads (``Conversations``)
* ``mongo_members`` — the bounded membership queries and the reach policy
* ``mongo_log`` — the message log (``MessageLog``; seqs in ``mongo_messages``)
* ``mongo_service`` — tickets, profiles, users by role, knowledge
* ``mongo_safety`` — the abuse controls (``SafetyStore``)
* ``mongo_invites`` — group invitations (``InvitationStore``)

The roles' methods are bound onto the store once, at construction (no extra await per call).
"""

from __future__ import annotations

from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_conversations import MongoConversations
from parley.server.store.mongo_directory import MongoDirectory
from parley.server.store.mongo_docs import INDEXES
from parley.server.store.mongo_errors import guarded
from parley.server.store.mongo_invites import INVITES_INDEXES, InvitationCollections
from parley.server.store.mongo_log import MongoMessages
from parley.server.store.mongo_members import MEMBER_QUERY_INDEXES, MemberQueries
from parley.server.store.mongo_safety import SAFETY_INDEXES, SafetyCollections
from parley.server.store.mongo_service import SERVICE_INDEXES, KnowledgeCollections, ServiceCollections

__all__ = ["MongoStore"]


class MongoStore:
    """The :class:`~parley.server.ports.Store` port on MongoDB (``url``, ``database``).

    ``server_selection_timeout_ms`` bounds how long a call waits for a reachable
    server before raising ``StoreUnavailable``; ``socket_timeout_ms`` bounds one
    round trip to a server that stopped answering, and ``operation_timeout_ms``
    the whole of one operation (retries included).
    """

    def __init__(
        self,
        url: str,
        database: str,
        *,
        server_selection_timeout_ms: int = 2000,
        socket_timeout_ms: int = 20_000,
        operation_timeout_ms: int = 3000,
    ) -> None:
        #: The one client every role runs on.
        self.conn = conn = MongoConnection(
            url,
            database,
            server_selection_timeout_ms=server_selection_timeout_ms,
            socket_timeout_ms=socket_timeout_ms,
            operation_timeout_ms=operation_timeout_ms,
        )
        directory = MongoDirectory(conn)
        self.create_app = directory.create_app
        self.get_app = directory.get_app
        self.list_apps = directory.list_apps
        self.add_api_key = directory.add_api_key
        self.app_for_key = directory.app_for_key
        self.upsert_user = directory.upsert_user
        self.get_user = directory.get_user
        self.set_last_seen = directory.set_last_seen
        conversations = MongoConversations(conn)
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
        members = MemberQueries(conn)
        self.last_seen_of = members.last_seen_of
        self.shared_with = members.shared_with
        self.count_created_since = members.count_created_since
        self.count_joined_since = members.count_joined_since
        self.count_members = members.count_members
        self.member_page = members.member_page
        self.get_app_policy = members.get_app_policy
        self.set_app_policy = members.set_app_policy
        messages = MongoMessages(conn)
        self.append = messages.append
        self.get_messages = messages.get_messages
        self.edit_message = messages.edit_message
        self.recall_message = messages.recall_message
        service = ServiceCollections(conn)
        self.list_users = service.list_users
        self.save_ticket = service.save_ticket
        self.get_ticket = service.get_ticket
        self.update_ticket = service.update_ticket
        self.list_tickets = service.list_tickets
        self.get_profile = service.get_profile
        self.merge_profile = service.merge_profile
        knowledge = KnowledgeCollections(conn)
        self.replace_knowledge = knowledge.replace_knowledge
        self.delete_knowledge = knowledge.delete_knowledge
        self.list_knowledge = knowledge.list_knowledge
        self.knowledge_version = knowledge.knowledge_version
        safety = SafetyCollections(conn)
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
        invites = InvitationCollections(conn)
        self.put_invitations = invites.put_invitations
        self.get_invitation = invites.get_invitation
        self.delete_invitation = invites.delete_invitation
        self.list_invitations = invites.list_invitations
        self.count_invitations = invites.count_invitations
        self.delete_invitations_between = invites.delete_invitations_between
        self.purge_invitations = invites.purge_invitations

    async def open(self) -> None:
        """Connect and create every role's indexes (idempotent)."""
        await self.conn.open(
            (INDEXES, SERVICE_INDEXES, SAFETY_INDEXES, INVITES_INDEXES, MEMBER_QUERY_INDEXES)
        )

    async def close(self) -> None:
        """Close the client."""
        await self.conn.close()

    @guarded
    async def ping(self) -> None:
        """Round-trip to the server; ``StoreUnavailable`` if it fails."""
        await self.conn.db.command("ping")
