"""Services: the application logic between the gateway/admin API and the ports."""

from __future__ import annotations

from dataclasses import dataclass

from parley.server.auth.tokens import TokenVerifier
from parley.server.events_schema import EventLimits
from parley.server.ports import Broker, Store
from parley.server.services.apply_recovery import ApplyRecovery
from parley.server.services.apps import AppService
from parley.server.services.audience import AudienceLimits, AudienceService
from parley.server.services.audience_recipients import AudienceRecipients
from parley.server.services.brand_support import BrandSupport
from parley.server.services.campaign_results import CampaignResults
from parley.server.services.campaigns import CampaignService
from parley.server.services.compliance import ComplianceService
from parley.server.services.console import ConsoleService
from parley.server.services.conversations import ConversationService
from parley.server.services.conversions import ConversionAttributor
from parley.server.services.delivered import DeliveredCounter
from parley.server.services.events import EventService
from parley.server.services.fanout import FanOut
from parley.server.services.history import HistoryService
from parley.server.services.identity import IdentityService
from parley.server.services.invites import InvitationService
from parley.server.services.journey_results import JourneyResults
from parley.server.services.journey_steps import StepRunner
from parley.server.services.journeys import JourneyService
from parley.server.services.journeys_wiring import StoreJourneyProfiles, handoff_for
from parley.server.services.knowledge import KnowledgeService
from parley.server.services.leases import LeaseService
from parley.server.services.links import LinkSigner
from parley.server.services.measurement import AudienceTagger, Measurement
from parley.server.services.messages import MessageService
from parley.server.services.moderation import ModerationService
from parley.server.services.official import (
    OfficialAccount,
    OfficialConversations,
    OptOutListener,
    StoreConversationFacts,
)
from parley.server.services.presence import PresenceService
from parley.server.services.profiles import ProfileService
from parley.server.services.reach import ReachPolicy
from parley.server.services.receipts import ReceiptService
from parley.server.services.rfm import AudiencePass
from parley.server.services.safety import SafetyService
from parley.server.services.segments import SegmentLimits, SegmentService
from parley.server.services.send_policy import SendPolicy
from parley.server.services.support import SupportService
from parley.server.services.support_queue import QueueNotifier
from parley.server.services.tagdefs import TagDefinitionService
from parley.server.services.words import WordFilter
from parley.server.settings import Settings

__all__ = ["Services", "build_services"]


@dataclass(frozen=True, slots=True)
class Services:
    """The services, built once per node: the only way the gateway and the admin API reach
    the store (which is deliberately not a field here: see ``tests/architecture``)."""

    broker: Broker
    tokens: TokenVerifier
    apps: AppService
    messages: MessageService
    conversations: ConversationService
    receipts: ReceiptService
    presence: PresenceService
    history: HistoryService
    support: SupportService
    profiles: ProfileService
    safety: SafetyService
    reach: ReachPolicy
    moderation: ModerationService
    words: WordFilter
    invites: InvitationService
    knowledge: KnowledgeService
    console: ConsoleService
    #: Marketing: the one send-policy chain, the official account and its opt-out listener.
    send_policy: SendPolicy
    campaigns: CampaignService
    official: OfficialAccount
    optout: OptOutListener
    events: EventService
    audience_pass: AudiencePass
    apply_recovery: ApplyRecovery
    audience: AudienceService
    identity: IdentityService
    segments: SegmentService
    compliance: ComplianceService
    journeys: JourneyService
    #: Campaign measurement: engagement counters (a message observer) and the results.
    measurement: Measurement
    #: The ``delivered`` count of campaign messages (the hub's pushes, sync and history replies).
    delivered: DeliveredCounter
    #: Conversions credited as goal events arrive (an events listener).
    conversions: ConversionAttributor
    links: LinkSigner
    results: CampaignResults
    #: Journey results per send step (``GET /v1/journeys/{jid}/results``).
    journey_results: JourneyResults
    #: Tag definitions (descriptive; enforced for tags a person sets: services/tagdefs.py).
    tagdefs: TagDefinitionService
    #: Named leases: which of several processes of an app (e.g. two bot processes) is active.
    leases: LeaseService
    #: Replies in the brand conversation continue as support there; the journey hand-over.
    brand_support: BrandSupport


def build_services(
    settings: Settings,
    store: Store,
    broker: Broker,
    fanout: FanOut | None = None,
) -> Services:
    """Build every service over ``store`` and ``broker``; ``fanout`` is where stored messages go
    out (the gateway's; by default straight to the broker)."""
    events = EventService(
        store,
        limits=EventLimits(
            props_max=settings.event_props_max,
            prop_bytes=settings.event_prop_bytes,
            max_age=settings.event_max_age,
            clock_skew=settings.event_clock_skew,
        ),
        batch_max=settings.event_batch_max,
        default_retention_days=settings.event_retention_days,
        config_ttl=settings.app_cache_ttl,
    )
    segments = SegmentService(
        store,
        SegmentLimits(
            max_depth=settings.segment_max_depth,
            max_window_s=settings.segment_max_window_days * 86400,
            sample_max=settings.segment_sample_max,
            segments_max=settings.segments_max,
        ),
        touch_delay=settings.segment_touch_delay,
    )
    events.on_applied.append(segments.touch)  # membership events follow the events that caused them
    messages = MessageService(
        store, broker, max_batch=settings.append_batch_max, fanout=fanout,
        max_body=settings.max_frame,
    )  # fmt: skip
    conversations = ConversationService(
        store,
        broker,
        messages,
        max_members=settings.max_group_members,
        support_bot=settings.support_bot,
        preview_bytes=settings.preview_bytes,
    )
    presence = PresenceService(store, broker, ttl=settings.presence_ttl)
    support = SupportService(
        store, conversations, messages, presence, max_per_agent=settings.agent_max_concurrent
    )
    tokens = TokenVerifier(
        store,
        audience=settings.token_audience,
        leeway=settings.token_leeway,
        max_lifetime=settings.token_max_lifetime,
        support_bot=settings.support_bot,
        app_cache_ttl=settings.app_cache_ttl,
    )
    apps = AppService(
        store,
        audience=settings.token_audience,
        max_ttl=settings.token_max_lifetime,
        support_bot=settings.support_bot,
    )
    safety = SafetyService(store, broker)
    reach = ReachPolicy(
        store,
        presence=settings.presence_policy,
        add=settings.add_policy,
        create_quota=settings.conv_create_quota,
        join_quota=settings.join_quota,
        window=settings.quota_window,
    )
    moderation = ModerationService(
        store,
        broker,
        tokens=tokens,
        apps=apps,
        safety=safety,
        mute_max=settings.mute_max_seconds,
        secret_overlap=min(settings.secret_overlap, settings.token_max_lifetime),
        overlap_max=settings.token_max_lifetime,
    )
    console = ConsoleService(
        store,
        apps,
        moderation,
        presence,
        session_ttl=settings.console_session_ttl,
        ws_token_ttl=settings.console_ws_token_ttl,
    )
    official = OfficialAccount(conversations, messages)
    recipients = AudienceRecipients(store)
    send_policy = SendPolicy(store, recipients, StoreConversationFacts(store), official)
    optout = OptOutListener(conversations, messages, recipients, official_users=send_policy)

    async def members(app: str, seg: str, after: str, limit: int) -> list[str]:
        return (await segments.members(app, seg, after, limit))[0]

    async def variables(app: str) -> list[str]:
        return list(await segments.attr_types(app))

    campaigns = CampaignService(
        store, send_policy, recipients, members=members, variables=variables, segment_exists=segments.get,
        everyone=store.profile_page,
    )  # fmt: skip
    messages.observe(optout.on_stored)
    brand_support = BrandSupport(
        store, support, conversations, official, send_policy, recipients, support_bot=settings.support_bot
    )
    messages.observe(brand_support.on_stored)
    audience_service = AudienceService(
        store,
        AudienceLimits(
            attributes_max=settings.audience_attributes_max,
            string_max=settings.audience_string_max,
            list_max=settings.audience_list_max,
            timezone=settings.audience_timezone,
            merge_guard=settings.audience_merge_guard,
        ),
    )
    audience_service.on_changed.append(segments.touch)  # attribute/tag/consent changes move members too
    identity = IdentityService(store, audience_service)
    compliance = ComplianceService(store, audience_service, identity, moderation)
    # An erased person's identifiers are refused before any profile is resolved or created.
    profiles = ProfileService(store)
    identity.erased_check = events.erased_check = compliance.check
    audience_service.erased_check = profiles.erased_check = support.erased_check = compliance.check
    compliance.on_erased.append(events.forget_pids)
    tagdefs = TagDefinitionService(store)
    support.on_moved = QueueNotifier(store, broker).changed  # the waiting queue pushed to agents
    audience_service.tag_check = profiles.tag_check = tagdefs.check_manual
    measurement = Measurement(
        store, AudienceTagger(audience_service), officials=send_policy,
        conversations=OfficialConversations(conversations),
    )  # fmt: skip
    steps = StepRunner(
        send_policy, store, StoreJourneyProfiles(store, audience_service),
        handoff_for(brand_support), measurement,
    )  # fmt: skip
    journeys = JourneyService(store, steps, variables=variables, lease_ms=int(settings.journey_lease * 1000))
    events.on_stored.append(journeys.on_events)  # tracked and ingested events start and wake runs
    segments.sync.on_stored.append(journeys.on_events)  # so do segment_enter / segment_leave
    messages.observe(measurement.on_stored)
    links = LinkSigner(apps)
    send_policy.links = links
    receipts = ReceiptService(store, broker, max_draft_bytes=settings.max_draft_bytes)
    receipts.on_read.append(measurement.on_read)
    delivered = DeliveredCounter(measurement, AudienceTagger(audience_service), send_policy)
    history = HistoryService(store)
    history.on_returned = delivered.returned
    conversions = ConversionAttributor(
        store, measurement, lease_ms=max(1_000, int(settings.conversion_catchup_interval * 1000))
    )
    events.on_stored.append(conversions.on_events)
    campaigns.on_created.append(conversions.forget)
    return Services(
        audience=audience_service,
        identity=identity,
        compliance=compliance,
        broker=broker,
        tokens=tokens,
        apps=apps,
        messages=messages,
        conversations=conversations,
        receipts=receipts,
        presence=presence,
        history=history,
        support=support,
        profiles=profiles,
        safety=safety,
        reach=reach,
        moderation=moderation,
        words=WordFilter(
            store,
            ttl=settings.word_cache_ttl,
            max_lists=settings.word_lists_max,
            max_words=settings.words_per_list_max,
        ),
        invites=InvitationService(
            store,
            broker,
            conversations,
            reach,
            ttl=settings.invite_ttl,
            max_pending=settings.invites_pending_max,
        ),
        knowledge=KnowledgeService(store, upload_max_bytes=settings.knowledge_upload_max_bytes),
        console=console,
        send_policy=send_policy,
        campaigns=campaigns,
        official=official,
        optout=optout,
        events=events,
        audience_pass=AudiencePass(store, events),
        apply_recovery=ApplyRecovery(store, events.applier),
        segments=segments,
        journeys=journeys,
        measurement=measurement,
        delivered=delivered,
        conversions=conversions,
        links=links,
        results=CampaignResults(store, measurement),
        journey_results=JourneyResults(store, measurement, journeys),
        tagdefs=tagdefs,
        leases=LeaseService(store),
        brand_support=brand_support,
    )
