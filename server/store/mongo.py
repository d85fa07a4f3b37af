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
* ``mongo_service`` — tickets, users by role, knowledge
* ``mongo_audience`` — audience profiles, schema, tag history, consent; the chat ``Profiles``
* ``mongo_identity`` — identifiers and merges (``Identities``)
* ``mongo_safety`` — the abuse controls (``SafetyStore``)
* ``mongo_invites`` — group invitations (``InvitationStore``)
* ``mongo_events`` — the audience event log (``EventLog``)
* ``mongo_activation`` — delivery ledger, cap touches, send policy (``ActivationStore``)
* ``mongo_campaigns`` — campaigns, their state, cursor and sender lease (``CampaignStore``)
* ``mongo_console`` — web-console users, sessions, settings (``ConsoleStore``)
* ``mongo_tagdefs`` — tag definitions (``TagDefinitionStore``)
* ``mongo_leases`` — named leases: which process of an app is active (``LeaseStore``)
* ``mongo_uploads`` — knowledge files uploaded for the bot (``KnowledgeUploads``)
* ``mongo_segments`` — segment rules as aggregation pipelines, saved segments (``SegmentsPort``)
* ``mongo_compliance`` — erasure: a person's documents, identifier tombstones, erase records (``ErasureStore``)

Each port method is a :class:`~parley.server.store.via.Via` class attribute, so a call such as
``store.append`` is the role object's own bound method: no extra await or frame per call.
"""

from __future__ import annotations

from parley.server.ids import now_ms
from parley.server.store.mongo_activation import ACTIVATION_INDEXES, ActivationCollections
from parley.server.store.mongo_audience import AudienceCollections
from parley.server.store.mongo_audience_docs import AUDIENCE_INDEXES
from parley.server.store.mongo_campaigns import CAMPAIGNS_INDEXES, CampaignCollections
from parley.server.store.mongo_compliance import COMPLIANCE_INDEXES, ComplianceCollections
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_console import CONSOLE_INDEXES, ConsoleCollections
from parley.server.store.mongo_conversations import MongoConversations
from parley.server.store.mongo_directory import MongoDirectory
from parley.server.store.mongo_docs import INDEXES
from parley.server.store.mongo_errors import guarded
from parley.server.store.mongo_events import EVENTS_INDEXES, EventCollections
from parley.server.store.mongo_identity import IdentityCollections
from parley.server.store.mongo_invites import INVITES_INDEXES, InvitationCollections
from parley.server.store.mongo_journeys import JOURNEY_INDEXES, JourneyCollections
from parley.server.store.mongo_leases import LeaseCollections
from parley.server.store.mongo_log import MongoMessages
from parley.server.store.mongo_members import MEMBER_QUERY_INDEXES, MemberQueries
from parley.server.store.mongo_safety import SAFETY_INDEXES, SafetyCollections
from parley.server.store.mongo_segments import SEGMENT_INDEXES, SegmentCollections
from parley.server.store.mongo_service import SERVICE_INDEXES, KnowledgeCollections, ServiceCollections
from parley.server.store.mongo_tagdefs import TAGDEFS_INDEXES, TagDefinitionCollections
from parley.server.store.mongo_uploads import UPLOADS_INDEXES, UploadCollections
from parley.server.store.via import Via

__all__ = ["MongoStore"]


class MongoStore:
    """The :class:`~parley.server.ports.Store` port on MongoDB (``url``, ``database``).

    ``server_selection_timeout_ms`` bounds how long a call waits for a reachable
    server before raising ``StoreUnavailable``; ``socket_timeout_ms`` bounds one
    round trip to a server that stopped answering, and ``operation_timeout_ms``
    the whole of one operation (retries included).
    """

    # directory
    create_app = Via("_directory", MongoDirectory.create_app)
    get_app = Via("_directory", MongoDirectory.get_app)
    list_apps = Via("_directory", MongoDirectory.list_apps)
    add_api_key = Via("_directory", MongoDirectory.add_api_key)
    app_for_key = Via("_directory", MongoDirectory.app_for_key)
    upsert_user = Via("_directory", MongoDirectory.upsert_user)
    get_user = Via("_directory", MongoDirectory.get_user)
    set_last_seen = Via("_directory", MongoDirectory.set_last_seen)
    anonymise_user = Via("_directory", MongoDirectory.anonymise_user)
    # conversations
    create_conversation = Via("_conversations", MongoConversations.create_conversation)
    get_conversation = Via("_conversations", MongoConversations.get_conversation)
    update_conversation = Via("_conversations", MongoConversations.update_conversation)
    list_user_conversations = Via("_conversations", MongoConversations.list_user_conversations)
    get_member = Via("_conversations", MongoConversations.get_member)
    list_members = Via("_conversations", MongoConversations.list_members)
    add_members = Via("_conversations", MongoConversations.add_members)
    remove_members = Via("_conversations", MongoConversations.remove_members)
    set_member_role = Via("_conversations", MongoConversations.set_member_role)
    set_read = Via("_conversations", MongoConversations.set_read)
    set_reads = Via("_conversations", MongoConversations.set_reads)
    # members
    last_seen_of = Via("_members", MemberQueries.last_seen_of)
    shared_with = Via("_members", MemberQueries.shared_with)
    count_created_since = Via("_members", MemberQueries.count_created_since)
    count_joined_since = Via("_members", MemberQueries.count_joined_since)
    count_members = Via("_members", MemberQueries.count_members)
    member_page = Via("_members", MemberQueries.member_page)
    get_app_policy = Via("_members", MemberQueries.get_app_policy)
    set_app_policy = Via("_members", MemberQueries.set_app_policy)
    # messages
    append = Via("_messages", MongoMessages.append)
    get_messages = Via("_messages", MongoMessages.get_messages)
    edit_message = Via("_messages", MongoMessages.edit_message)
    recall_message = Via("_messages", MongoMessages.recall_message)
    # service
    list_users = Via("_service", ServiceCollections.list_users)
    save_ticket = Via("_service", ServiceCollections.save_ticket)
    get_ticket = Via("_service", ServiceCollections.get_ticket)
    update_ticket = Via("_service", ServiceCollections.update_ticket)
    list_tickets = Via("_service", ServiceCollections.list_tickets)
    get_profile = Via("_audience", AudienceCollections.get_profile)
    merge_profile = Via("_audience", AudienceCollections.merge_profile)
    # knowledge
    replace_knowledge = Via("_knowledge", KnowledgeCollections.replace_knowledge)
    delete_knowledge = Via("_knowledge", KnowledgeCollections.delete_knowledge)
    list_knowledge = Via("_knowledge", KnowledgeCollections.list_knowledge)
    knowledge_version = Via("_knowledge", KnowledgeCollections.knowledge_version)
    knowledge_history = Via("_knowledge", KnowledgeCollections.knowledge_history)
    # safety
    add_block = Via("_safety", SafetyCollections.add_block)
    remove_block = Via("_safety", SafetyCollections.remove_block)
    list_blocks = Via("_safety", SafetyCollections.list_blocks)
    blocks_between = Via("_safety", SafetyCollections.blocks_between)
    get_user_status = Via("_safety", SafetyCollections.get_user_status)
    save_user_status = Via("_safety", SafetyCollections.save_user_status)
    save_mute = Via("_safety", SafetyCollections.save_mute)
    get_mute = Via("_safety", SafetyCollections.get_mute)
    list_mutes = Via("_safety", SafetyCollections.list_mutes)
    remove_mute = Via("_safety", SafetyCollections.remove_mute)
    add_audit = Via("_safety", SafetyCollections.add_audit)
    list_audit = Via("_safety", SafetyCollections.list_audit)
    rotate_secret = Via("_safety", SafetyCollections.rotate_secret)
    retired_secrets = Via("_safety", SafetyCollections.retired_secrets)
    list_api_keys = Via("_safety", SafetyCollections.list_api_keys)
    remove_api_key = Via("_safety", SafetyCollections.remove_api_key)
    put_word_list = Via("_safety", SafetyCollections.put_word_list)
    delete_word_list = Via("_safety", SafetyCollections.delete_word_list)
    list_word_lists = Via("_safety", SafetyCollections.list_word_lists)
    add_review = Via("_safety", SafetyCollections.add_review)
    get_review = Via("_safety", SafetyCollections.get_review)
    list_reviews = Via("_safety", SafetyCollections.list_reviews)
    resolve_review = Via("_safety", SafetyCollections.resolve_review)
    # invites
    put_invitations = Via("_invites", InvitationCollections.put_invitations)
    get_invitation = Via("_invites", InvitationCollections.get_invitation)
    delete_invitation = Via("_invites", InvitationCollections.delete_invitation)
    list_invitations = Via("_invites", InvitationCollections.list_invitations)
    count_invitations = Via("_invites", InvitationCollections.count_invitations)
    delete_invitations_between = Via("_invites", InvitationCollections.delete_invitations_between)
    purge_invitations = Via("_invites", InvitationCollections.purge_invitations)
    # events
    append_events = Via("_events", EventCollections.append_events)
    get_event = Via("_events", EventCollections.get_event)
    events_of = Via("_events", EventCollections.events_of)
    events_named = Via("_events", EventCollections.events_named)
    count_events = Via("_events", EventCollections.count_events)
    event_totals = Via("_events", EventCollections.event_totals)
    reassign_events = Via("_events", EventCollections.reassign_events)
    restore_events = Via("_events", EventCollections.restore_events)
    purge_events = Via("_events", EventCollections.purge_events)
    pending_events = Via("_events", EventCollections.pending_events)
    mark_events_applied = Via("_events", EventCollections.mark_events_applied)
    lease_pass = Via("_events", EventCollections.lease_pass)
    events_received = Via("_events", EventCollections.events_received)
    pass_mark = Via("_events", EventCollections.pass_mark)
    advance_pass_mark = Via("_events", EventCollections.advance_pass_mark)
    delete_events_of = Via("_events", EventCollections.delete_events_of)
    # activation
    claim_delivery = Via("_activation", ActivationCollections.claim_delivery)
    settle_delivery = Via("_activation", ActivationCollections.settle_delivery)
    get_delivery = Via("_activation", ActivationCollections.get_delivery)
    list_deliveries = Via("_activation", ActivationCollections.list_deliveries)
    count_deliveries = Via("_activation", ActivationCollections.count_deliveries)
    deferred_deliveries = Via("_activation", ActivationCollections.deferred_deliveries)
    reserve_touch = Via("_activation", ActivationCollections.reserve_touch)
    release_touch = Via("_activation", ActivationCollections.release_touch)
    count_touches = Via("_activation", ActivationCollections.count_touches)
    get_send_policy = Via("_activation", ActivationCollections.get_send_policy)
    put_send_policy = Via("_activation", ActivationCollections.put_send_policy)
    # campaigns
    create_campaign = Via("_campaigns", CampaignCollections.create_campaign)
    get_campaign = Via("_campaigns", CampaignCollections.get_campaign)
    list_campaigns = Via("_campaigns", CampaignCollections.list_campaigns)
    update_campaign = Via("_campaigns", CampaignCollections.update_campaign)
    lease_campaign = Via("_campaigns", CampaignCollections.lease_campaign)
    due_campaigns = Via("_campaigns", CampaignCollections.due_campaigns)
    # console
    put_console_user = Via("_console", ConsoleCollections.put_console_user)
    get_console_user = Via("_console", ConsoleCollections.get_console_user)
    list_console_users = Via("_console", ConsoleCollections.list_console_users)
    add_console_session = Via("_console", ConsoleCollections.add_console_session)
    get_console_session = Via("_console", ConsoleCollections.get_console_session)
    delete_console_session = Via("_console", ConsoleCollections.delete_console_session)
    delete_console_sessions = Via("_console", ConsoleCollections.delete_console_sessions)
    purge_console_sessions = Via("_console", ConsoleCollections.purge_console_sessions)
    get_console_setting = Via("_console", ConsoleCollections.get_console_setting)
    put_console_setting = Via("_console", ConsoleCollections.put_console_setting)
    # tag definitions
    create_tag_definition = Via("_tagdefs", TagDefinitionCollections.create_tag_definition)
    update_tag_definition = Via("_tagdefs", TagDefinitionCollections.update_tag_definition)
    get_tag_definition = Via("_tagdefs", TagDefinitionCollections.get_tag_definition)
    list_tag_definitions = Via("_tagdefs", TagDefinitionCollections.list_tag_definitions)
    delete_tag_definition = Via("_tagdefs", TagDefinitionCollections.delete_tag_definition)
    # named leases
    acquire_lease = Via("_leases", LeaseCollections.acquire_lease)
    release_lease = Via("_leases", LeaseCollections.release_lease)
    get_lease = Via("_leases", LeaseCollections.get_lease)
    # knowledge uploads
    add_upload = Via("_uploads", UploadCollections.add_upload)
    list_uploads = Via("_uploads", UploadCollections.list_uploads)
    settle_upload = Via("_uploads", UploadCollections.settle_upload)

    # audience
    put_audience_schema = Via("_audience", AudienceCollections.put_audience_schema)
    get_audience_schema = Via("_audience", AudienceCollections.get_audience_schema)
    get_audience_profile = Via("_audience", AudienceCollections.get_audience_profile)
    update_audience_profile = Via("_audience", AudienceCollections.update_audience_profile)
    tag_history = Via("_audience", AudienceCollections.tag_history)
    consent_ledger = Via("_audience", AudienceCollections.consent_ledger)
    # identities
    resolve_identifier = Via("_identity", IdentityCollections.resolve_identifier)
    resolve_or_create = Via("_identity", IdentityCollections.resolve_or_create)
    attach_identifier = Via("_identity", IdentityCollections.attach_identifier)
    identifiers_of = Via("_identity", IdentityCollections.identifiers_of)
    merge_audience_profiles = Via("_identity", IdentityCollections.merge_audience_profiles)
    unmerge_audience_profiles = Via("_identity", IdentityCollections.unmerge_audience_profiles)
    list_merges = Via("_identity", IdentityCollections.list_merges)
    get_merge = Via("_identity", IdentityCollections.get_merge)
    count_merges_matching = Via("_identity", IdentityCollections.count_merges_matching)
    # segments
    count_segment = Via("_segments", SegmentCollections.count_segment)
    sample_segment = Via("_segments", SegmentCollections.sample_segment)
    segment_page = Via("_segments", SegmentCollections.segment_page)
    profile_page = Via("_segments", SegmentCollections.profile_page)
    preview_segment = Via("_segments", SegmentCollections.preview_segment)
    explain_segment = Via("_segments", SegmentCollections.explain_segment)
    segment_members_among = Via("_segments", SegmentCollections.segment_members_among)
    put_segment = Via("_segments", SegmentCollections.put_segment)
    get_segment = Via("_segments", SegmentCollections.get_segment)
    list_segments = Via("_segments", SegmentCollections.list_segments)
    delete_segment = Via("_segments", SegmentCollections.delete_segment)
    change_members = Via("_segments", SegmentCollections.change_members)
    stored_members = Via("_segments", SegmentCollections.stored_members)
    is_stored_member = Via("_segments", SegmentCollections.is_stored_member)
    freeze_segment = Via("_segments", SegmentCollections.freeze_segment)
    segment_plan = Via("_segments", SegmentCollections.explain_plan)

    # erasure
    erase_salt = Via("_compliance", ComplianceCollections.erase_salt)
    add_tombstones = Via("_compliance", ComplianceCollections.add_tombstones)
    tombstoned = Via("_compliance", ComplianceCollections.tombstoned)
    deliveries_of = Via("_compliance", ComplianceCollections.deliveries_of)
    remove_tombstones = Via("_compliance", ComplianceCollections.remove_tombstones)
    delete_person_rows = Via("_compliance", ComplianceCollections.delete_person_rows)
    save_erasure = Via("_compliance", ComplianceCollections.save_erasure)
    get_erasure = Via("_compliance", ComplianceCollections.get_erasure)
    list_erasures = Via("_compliance", ComplianceCollections.list_erasures)
    # journeys
    create_journey = Via("_journeys", JourneyCollections.create_journey)
    add_journey_version = Via("_journeys", JourneyCollections.add_journey_version)
    get_journey = Via("_journeys", JourneyCollections.get_journey)
    journey_doc = Via("_journeys", JourneyCollections.journey_doc)
    list_journeys = Via("_journeys", JourneyCollections.list_journeys)
    set_journey_state = Via("_journeys", JourneyCollections.set_journey_state)
    triggered_journeys = Via("_journeys", JourneyCollections.triggered_journeys)
    enter_journey = Via("_journeys", JourneyCollections.enter_journey)
    start_run = Via("_journeys", JourneyCollections.start_run)
    get_run = Via("_journeys", JourneyCollections.get_run)
    claim_due_runs = Via("_journeys", JourneyCollections.claim_due_runs)
    advance_run = Via("_journeys", JourneyCollections.advance_run)
    signal_runs = Via("_journeys", JourneyCollections.signal_runs)
    begin_step = Via("_journeys", JourneyCollections.begin_step)
    finish_step = Via("_journeys", JourneyCollections.finish_step)
    step_log = Via("_journeys", JourneyCollections.step_log)
    waiting_at = Via("_journeys", JourneyCollections.waiting_at)
    runs_of = Via("_journeys", JourneyCollections.runs_of)
    runs_of_profile = Via("_journeys", JourneyCollections.runs_of_profile)

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
        self._directory = MongoDirectory(conn)
        self._conversations = MongoConversations(conn)
        self._members = MemberQueries(conn)
        self._messages = MongoMessages(conn)
        self._service = ServiceCollections(conn)
        self._knowledge = KnowledgeCollections(conn)
        self._safety = SafetyCollections(conn)
        self._invites = InvitationCollections(conn)
        self._events = EventCollections(conn)
        self._activation = ActivationCollections(conn)
        self._campaigns = CampaignCollections(conn)
        self._journeys = JourneyCollections(conn)
        self._console = ConsoleCollections(conn)
        self._tagdefs = TagDefinitionCollections(conn)
        self._leases = LeaseCollections(conn)  # no index: the _id (app/name) is the only key
        self._uploads = UploadCollections(conn)
        self._audience = AudienceCollections(conn)
        self._identity = IdentityCollections(conn)
        self._segments = SegmentCollections(conn)
        self._compliance = ComplianceCollections(conn)

    async def open(self) -> None:
        """Connect and create every role's indexes (idempotent)."""
        await self.conn.open(
            (
                INDEXES,
                SERVICE_INDEXES,
                SAFETY_INDEXES,
                INVITES_INDEXES,
                MEMBER_QUERY_INDEXES,
                EVENTS_INDEXES,
                ACTIVATION_INDEXES,
                CAMPAIGNS_INDEXES,
                CONSOLE_INDEXES,
                TAGDEFS_INDEXES,
                UPLOADS_INDEXES,
                AUDIENCE_INDEXES,
                SEGMENT_INDEXES,
                COMPLIANCE_INDEXES,
                JOURNEY_INDEXES,
            )
        )
        await self._audience.migrate_chat_profiles()
        await self._events.backfill_origins()
        await self._identity.repair_merges(now_ms())

    async def close(self) -> None:
        """Close the client."""
        await self.conn.close()

    @guarded
    async def ping(self) -> None:
        """Round-trip to the server; ``StoreUnavailable`` if it fails."""
        await self.conn.db.command("ping")
