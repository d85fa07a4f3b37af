"""SQLite adapter of :class:`~parley.server.ports.Store` (the embedded default).

:class:`SQLiteStore` is only the assembly: one :class:`~parley.server.store.sqlite_worker.SQLiteWorker`
(the connection, its worker thread, the group commit of calls and the background
checkpointer) and one small class per role over it:

* ``sqlite_directory`` — apps, API keys, users (``Directory``)
* ``sqlite_conversations`` — conversations, members, reads (``Conversations``)
* ``sqlite_members`` — the bounded membership queries and the reach policy
* ``sqlite_messages`` — the message log, ``append`` and its seq cache (``MessageLog``)
* ``sqlite_service`` — tickets, users by role, knowledge
* ``sqlite_audience`` — audience profiles, schema, tag history, consent; the chat ``Profiles``
* ``sqlite_identity`` — identifiers and merges (``Identities``)
* ``sqlite_safety`` — the abuse controls (``SafetyStore``)
* ``sqlite_invites`` — group invitations (``InvitationStore``)
* ``sqlite_events`` — the audience event log (``EventLog``)
* ``sqlite_activation`` — delivery ledger, cap touches, send policy (``ActivationStore``)
* ``sqlite_campaigns`` — campaigns, their state, cursor and sender lease (``CampaignStore``)
* ``sqlite_console`` — web-console users, sessions, settings (``ConsoleStore``)
* ``sqlite_tagdefs`` — tag definitions (``TagDefinitionStore``)
* ``sqlite_leases`` — named leases: which process of an app is active (``LeaseStore``)
* ``sqlite_uploads`` — knowledge files uploaded for the bot (``KnowledgeUploads``)
* ``sqlite_segments`` — segment rules compiled to SQL, saved segments (``SegmentsPort``)
* ``sqlite_compliance`` — erasure: a person's rows, identifier tombstones, erase records (``ErasureStore``)

Each port method is a :class:`~parley.server.store.via.Via` class attribute, so a call such as
``store.append`` is the role object's own bound method: no extra await or frame per call.
"""

from __future__ import annotations

from parley.server.store.sqlite_activation import ACTIVATION_SCHEMA, ActivationTables
from parley.server.store.sqlite_audience import AudienceTables
from parley.server.store.sqlite_audience_rows import AUDIENCE_SCHEMA, migrate_chat_profiles
from parley.server.store.sqlite_campaigns import CAMPAIGNS_SCHEMA, CampaignTables
from parley.server.store.sqlite_compliance import COMPLIANCE_SCHEMA, ComplianceTables
from parley.server.store.sqlite_console import CONSOLE_SCHEMA, ConsoleTables
from parley.server.store.sqlite_conversations import SQLiteConversations, migrate
from parley.server.store.sqlite_directory import SQLiteDirectory
from parley.server.store.sqlite_events import EVENTS_SCHEMA, EventTables, migrate_events
from parley.server.store.sqlite_identity import IdentityTables
from parley.server.store.sqlite_invites import INVITES_SCHEMA, InvitationTables
from parley.server.store.sqlite_journeys import JOURNEY_SCHEMA, JourneyTables
from parley.server.store.sqlite_leases import LEASES_SCHEMA, LeaseTables
from parley.server.store.sqlite_members import MEMBER_QUERY_SCHEMA, MemberQueries
from parley.server.store.sqlite_messages import SQLiteMessageLog
from parley.server.store.sqlite_safety import SAFETY_SCHEMA, SafetyTables
from parley.server.store.sqlite_schema import SCHEMA
from parley.server.store.sqlite_segments import SEGMENT_SCHEMA, SegmentTables
from parley.server.store.sqlite_service import SERVICE_SCHEMA, KnowledgeTables, ServiceTables, migrate_tickets
from parley.server.store.sqlite_tagdefs import TAGDEFS_SCHEMA, TagDefinitionTables
from parley.server.store.sqlite_uploads import UPLOADS_SCHEMA, UploadTables
from parley.server.store.sqlite_worker import WAL_CHECKPOINT_PAGES, Db, SQLiteWorker
from parley.server.store.via import Via

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
    db.executescript(EVENTS_SCHEMA)
    db.executescript(ACTIVATION_SCHEMA)
    db.executescript(CAMPAIGNS_SCHEMA)
    db.executescript(CONSOLE_SCHEMA)
    db.executescript(TAGDEFS_SCHEMA)
    db.executescript(LEASES_SCHEMA)
    db.executescript(UPLOADS_SCHEMA)
    db.executescript(AUDIENCE_SCHEMA)
    db.executescript(SEGMENT_SCHEMA)
    db.executescript(COMPLIANCE_SCHEMA)
    db.executescript(JOURNEY_SCHEMA)
    migrate(db)
    migrate_events(db)
    migrate_chat_profiles(db)
    migrate_tickets(db)


class SQLiteStore:
    """The :class:`~parley.server.ports.Store` port on a SQLite file (or ``":memory:"``).

    WAL journal, ``synchronous=NORMAL``: a crash may lose the last transactions
    but never corrupts the file. ``busy_timeout`` (seconds) bounds the wait for
    another process's write lock; past it a call raises ``StoreUnavailable``.
    """

    # directory
    create_app = Via("_directory", SQLiteDirectory.create_app)
    get_app = Via("_directory", SQLiteDirectory.get_app)
    list_apps = Via("_directory", SQLiteDirectory.list_apps)
    add_api_key = Via("_directory", SQLiteDirectory.add_api_key)
    app_for_key = Via("_directory", SQLiteDirectory.app_for_key)
    upsert_user = Via("_directory", SQLiteDirectory.upsert_user)
    get_user = Via("_directory", SQLiteDirectory.get_user)
    set_last_seen = Via("_directory", SQLiteDirectory.set_last_seen)
    anonymise_user = Via("_directory", SQLiteDirectory.anonymise_user)
    # conversations
    create_conversation = Via("_conversations", SQLiteConversations.create_conversation)
    get_conversation = Via("_conversations", SQLiteConversations.get_conversation)
    update_conversation = Via("_conversations", SQLiteConversations.update_conversation)
    list_user_conversations = Via("_conversations", SQLiteConversations.list_user_conversations)
    get_member = Via("_conversations", SQLiteConversations.get_member)
    list_members = Via("_conversations", SQLiteConversations.list_members)
    add_members = Via("_conversations", SQLiteConversations.add_members)
    remove_members = Via("_conversations", SQLiteConversations.remove_members)
    set_member_role = Via("_conversations", SQLiteConversations.set_member_role)
    set_read = Via("_conversations", SQLiteConversations.set_read)
    set_reads = Via("_conversations", SQLiteConversations.set_reads)
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
    append = Via("_messages", SQLiteMessageLog.append)
    get_messages = Via("_messages", SQLiteMessageLog.get_messages)
    edit_message = Via("_messages", SQLiteMessageLog.edit_message)
    recall_message = Via("_messages", SQLiteMessageLog.recall_message)
    # service
    list_users = Via("_service", ServiceTables.list_users)
    save_ticket = Via("_service", ServiceTables.save_ticket)
    get_ticket = Via("_service", ServiceTables.get_ticket)
    update_ticket = Via("_service", ServiceTables.update_ticket)
    list_tickets = Via("_service", ServiceTables.list_tickets)
    get_profile = Via("_audience", AudienceTables.get_profile)
    merge_profile = Via("_audience", AudienceTables.merge_profile)
    # knowledge
    replace_knowledge = Via("_knowledge", KnowledgeTables.replace_knowledge)
    delete_knowledge = Via("_knowledge", KnowledgeTables.delete_knowledge)
    list_knowledge = Via("_knowledge", KnowledgeTables.list_knowledge)
    knowledge_version = Via("_knowledge", KnowledgeTables.knowledge_version)
    knowledge_history = Via("_knowledge", KnowledgeTables.knowledge_history)
    # safety
    add_block = Via("_safety", SafetyTables.add_block)
    remove_block = Via("_safety", SafetyTables.remove_block)
    list_blocks = Via("_safety", SafetyTables.list_blocks)
    blocks_between = Via("_safety", SafetyTables.blocks_between)
    get_user_status = Via("_safety", SafetyTables.get_user_status)
    save_user_status = Via("_safety", SafetyTables.save_user_status)
    save_mute = Via("_safety", SafetyTables.save_mute)
    get_mute = Via("_safety", SafetyTables.get_mute)
    list_mutes = Via("_safety", SafetyTables.list_mutes)
    remove_mute = Via("_safety", SafetyTables.remove_mute)
    add_audit = Via("_safety", SafetyTables.add_audit)
    list_audit = Via("_safety", SafetyTables.list_audit)
    rotate_secret = Via("_safety", SafetyTables.rotate_secret)
    retired_secrets = Via("_safety", SafetyTables.retired_secrets)
    list_api_keys = Via("_safety", SafetyTables.list_api_keys)
    remove_api_key = Via("_safety", SafetyTables.remove_api_key)
    put_word_list = Via("_safety", SafetyTables.put_word_list)
    delete_word_list = Via("_safety", SafetyTables.delete_word_list)
    list_word_lists = Via("_safety", SafetyTables.list_word_lists)
    add_review = Via("_safety", SafetyTables.add_review)
    get_review = Via("_safety", SafetyTables.get_review)
    list_reviews = Via("_safety", SafetyTables.list_reviews)
    resolve_review = Via("_safety", SafetyTables.resolve_review)
    # invites
    put_invitations = Via("_invites", InvitationTables.put_invitations)
    get_invitation = Via("_invites", InvitationTables.get_invitation)
    delete_invitation = Via("_invites", InvitationTables.delete_invitation)
    list_invitations = Via("_invites", InvitationTables.list_invitations)
    count_invitations = Via("_invites", InvitationTables.count_invitations)
    delete_invitations_between = Via("_invites", InvitationTables.delete_invitations_between)
    purge_invitations = Via("_invites", InvitationTables.purge_invitations)
    # events
    append_events = Via("_events", EventTables.append_events)
    get_event = Via("_events", EventTables.get_event)
    events_of = Via("_events", EventTables.events_of)
    events_named = Via("_events", EventTables.events_named)
    count_events = Via("_events", EventTables.count_events)
    event_totals = Via("_events", EventTables.event_totals)
    reassign_events = Via("_events", EventTables.reassign_events)
    restore_events = Via("_events", EventTables.restore_events)
    purge_events = Via("_events", EventTables.purge_events)
    pending_events = Via("_events", EventTables.pending_events)
    mark_events_applied = Via("_events", EventTables.mark_events_applied)
    lease_pass = Via("_events", EventTables.lease_pass)
    events_received = Via("_events", EventTables.events_received)
    pass_mark = Via("_events", EventTables.pass_mark)
    advance_pass_mark = Via("_events", EventTables.advance_pass_mark)
    delete_events_of = Via("_events", EventTables.delete_events_of)
    # activation
    claim_delivery = Via("_activation", ActivationTables.claim_delivery)
    settle_delivery = Via("_activation", ActivationTables.settle_delivery)
    get_delivery = Via("_activation", ActivationTables.get_delivery)
    list_deliveries = Via("_activation", ActivationTables.list_deliveries)
    count_deliveries = Via("_activation", ActivationTables.count_deliveries)
    deferred_deliveries = Via("_activation", ActivationTables.deferred_deliveries)
    reserve_touch = Via("_activation", ActivationTables.reserve_touch)
    release_touch = Via("_activation", ActivationTables.release_touch)
    count_touches = Via("_activation", ActivationTables.count_touches)
    get_send_policy = Via("_activation", ActivationTables.get_send_policy)
    put_send_policy = Via("_activation", ActivationTables.put_send_policy)
    # campaigns
    create_campaign = Via("_campaigns", CampaignTables.create_campaign)
    get_campaign = Via("_campaigns", CampaignTables.get_campaign)
    list_campaigns = Via("_campaigns", CampaignTables.list_campaigns)
    update_campaign = Via("_campaigns", CampaignTables.update_campaign)
    lease_campaign = Via("_campaigns", CampaignTables.lease_campaign)
    due_campaigns = Via("_campaigns", CampaignTables.due_campaigns)
    # console
    put_console_user = Via("_console", ConsoleTables.put_console_user)
    get_console_user = Via("_console", ConsoleTables.get_console_user)
    list_console_users = Via("_console", ConsoleTables.list_console_users)
    add_console_session = Via("_console", ConsoleTables.add_console_session)
    get_console_session = Via("_console", ConsoleTables.get_console_session)
    delete_console_session = Via("_console", ConsoleTables.delete_console_session)
    delete_console_sessions = Via("_console", ConsoleTables.delete_console_sessions)
    purge_console_sessions = Via("_console", ConsoleTables.purge_console_sessions)
    get_console_setting = Via("_console", ConsoleTables.get_console_setting)
    put_console_setting = Via("_console", ConsoleTables.put_console_setting)
    # tag definitions
    create_tag_definition = Via("_tagdefs", TagDefinitionTables.create_tag_definition)
    update_tag_definition = Via("_tagdefs", TagDefinitionTables.update_tag_definition)
    get_tag_definition = Via("_tagdefs", TagDefinitionTables.get_tag_definition)
    list_tag_definitions = Via("_tagdefs", TagDefinitionTables.list_tag_definitions)
    delete_tag_definition = Via("_tagdefs", TagDefinitionTables.delete_tag_definition)
    # named leases
    acquire_lease = Via("_leases", LeaseTables.acquire_lease)
    release_lease = Via("_leases", LeaseTables.release_lease)
    get_lease = Via("_leases", LeaseTables.get_lease)
    # knowledge uploads
    add_upload = Via("_uploads", UploadTables.add_upload)
    list_uploads = Via("_uploads", UploadTables.list_uploads)
    settle_upload = Via("_uploads", UploadTables.settle_upload)

    # audience
    put_audience_schema = Via("_audience", AudienceTables.put_audience_schema)
    get_audience_schema = Via("_audience", AudienceTables.get_audience_schema)
    get_audience_profile = Via("_audience", AudienceTables.get_audience_profile)
    update_audience_profile = Via("_audience", AudienceTables.update_audience_profile)
    tag_history = Via("_audience", AudienceTables.tag_history)
    consent_ledger = Via("_audience", AudienceTables.consent_ledger)
    # identities
    resolve_identifier = Via("_identity", IdentityTables.resolve_identifier)
    resolve_or_create = Via("_identity", IdentityTables.resolve_or_create)
    attach_identifier = Via("_identity", IdentityTables.attach_identifier)
    identifiers_of = Via("_identity", IdentityTables.identifiers_of)
    merge_audience_profiles = Via("_identity", IdentityTables.merge_audience_profiles)
    unmerge_audience_profiles = Via("_identity", IdentityTables.unmerge_audience_profiles)
    list_merges = Via("_identity", IdentityTables.list_merges)
    get_merge = Via("_identity", IdentityTables.get_merge)
    count_merges_matching = Via("_identity", IdentityTables.count_merges_matching)
    # segments
    count_segment = Via("_segments", SegmentTables.count_segment)
    sample_segment = Via("_segments", SegmentTables.sample_segment)
    segment_page = Via("_segments", SegmentTables.segment_page)
    profile_page = Via("_segments", SegmentTables.profile_page)
    preview_segment = Via("_segments", SegmentTables.preview_segment)
    explain_segment = Via("_segments", SegmentTables.explain_segment)
    segment_members_among = Via("_segments", SegmentTables.segment_members_among)
    put_segment = Via("_segments", SegmentTables.put_segment)
    get_segment = Via("_segments", SegmentTables.get_segment)
    list_segments = Via("_segments", SegmentTables.list_segments)
    delete_segment = Via("_segments", SegmentTables.delete_segment)
    change_members = Via("_segments", SegmentTables.change_members)
    stored_members = Via("_segments", SegmentTables.stored_members)
    is_stored_member = Via("_segments", SegmentTables.is_stored_member)
    freeze_segment = Via("_segments", SegmentTables.freeze_segment)

    # erasure
    erase_salt = Via("_compliance", ComplianceTables.erase_salt)
    add_tombstones = Via("_compliance", ComplianceTables.add_tombstones)
    tombstoned = Via("_compliance", ComplianceTables.tombstoned)
    deliveries_of = Via("_compliance", ComplianceTables.deliveries_of)
    remove_tombstones = Via("_compliance", ComplianceTables.remove_tombstones)
    delete_person_rows = Via("_compliance", ComplianceTables.delete_person_rows)
    save_erasure = Via("_compliance", ComplianceTables.save_erasure)
    get_erasure = Via("_compliance", ComplianceTables.get_erasure)
    list_erasures = Via("_compliance", ComplianceTables.list_erasures)
    # journeys
    create_journey = Via("_journeys", JourneyTables.create_journey)
    add_journey_version = Via("_journeys", JourneyTables.add_journey_version)
    get_journey = Via("_journeys", JourneyTables.get_journey)
    journey_doc = Via("_journeys", JourneyTables.journey_doc)
    list_journeys = Via("_journeys", JourneyTables.list_journeys)
    set_journey_state = Via("_journeys", JourneyTables.set_journey_state)
    triggered_journeys = Via("_journeys", JourneyTables.triggered_journeys)
    enter_journey = Via("_journeys", JourneyTables.enter_journey)
    start_run = Via("_journeys", JourneyTables.start_run)
    get_run = Via("_journeys", JourneyTables.get_run)
    claim_due_runs = Via("_journeys", JourneyTables.claim_due_runs)
    advance_run = Via("_journeys", JourneyTables.advance_run)
    signal_runs = Via("_journeys", JourneyTables.signal_runs)
    begin_step = Via("_journeys", JourneyTables.begin_step)
    finish_step = Via("_journeys", JourneyTables.finish_step)
    step_log = Via("_journeys", JourneyTables.step_log)
    waiting_at = Via("_journeys", JourneyTables.waiting_at)
    runs_of = Via("_journeys", JourneyTables.runs_of)
    runs_of_profile = Via("_journeys", JourneyTables.runs_of_profile)

    def __init__(self, path: str, *, busy_timeout: float = 5.0) -> None:
        #: The one connection and worker thread every role runs on.
        self.worker = worker = SQLiteWorker(path, busy_timeout=busy_timeout)
        self._directory = SQLiteDirectory(worker)
        self._conversations = SQLiteConversations(worker)
        self._members = MemberQueries(worker)
        self._messages = SQLiteMessageLog(worker)
        self._service = ServiceTables(worker)
        self._knowledge = KnowledgeTables(worker)
        self._safety = SafetyTables(worker)
        self._invites = InvitationTables(worker)
        self._events = EventTables(worker)
        self._activation = ActivationTables(worker)
        self._campaigns = CampaignTables(worker)
        self._console = ConsoleTables(worker)
        self._tagdefs = TagDefinitionTables(worker)
        self._leases = LeaseTables(worker)
        self._uploads = UploadTables(worker)
        self._audience = AudienceTables(worker)
        self._identity = IdentityTables(worker)
        self._segments = SegmentTables(worker)
        self._compliance = ComplianceTables(worker)
        self._journeys = JourneyTables(worker)

    async def open(self) -> None:
        """Connect and create the schema and indexes (idempotent)."""
        await self.worker.open(_init)

    async def close(self) -> None:
        """Stop the checkpointer and close the connection (queued calls still complete)."""
        await self.worker.close()

    async def ping(self) -> None:
        """Round-trip to the worker thread and the database."""
        await self.worker.run(lambda db: db.execute("SELECT 1").fetchone())
