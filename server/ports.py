"""The two ports the server depends on, with the guarantees adapters must keep.

``Store`` — durable state: the union of small role ports, each with its guarantees
(:mod:`parley.server.store_ports`: directory, conversations, message log, tickets,
profiles, knowledge; :mod:`parley.server.safety_port`: the abuse controls;
:mod:`parley.server.invites_port`: invitations; :mod:`parley.server.events_port`: the event log;
:mod:`parley.server.activation_port`: the send policy's delivery ledger and cap touches; :mod:`parley.server.campaign_port`: campaigns;
:mod:`parley.server.console_port`: the web console's users and sessions;
:mod:`parley.server.lease_port`: named leases (which process of an app is active);
:mod:`parley.server.audience_port`: audience profiles and identities).
Adapters: ``store/sqlite.py`` (embedded default) and ``store/mongo.py``.

``Broker`` — fan-out of pre-encoded frames between gateway nodes, plus a small
shared presence registry. Adapters: ``broker/memory.py`` (single node) and
``broker/redis.py``.

One contract suite (``tests/server/store/test_contract.py`` and
``tests/server/broker/test_contract.py``) runs against every adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Protocol

# The failures adapters raise; defined in the server's exception tree (server/errors.py).
from parley.server.activation_port import ActivationStore
from parley.server.audience_port import AudienceProfiles, Identities
from parley.server.campaign_port import CampaignStore
from parley.server.compliance_port import ErasureStore
from parley.server.console_port import ConsoleStore
from parley.server.errors import BrokerUnavailable, StoreUnavailable
from parley.server.events_port import EventLog
from parley.server.invites_port import InvitationStore
from parley.server.journey_port import JourneyStore
from parley.server.lease_port import LeaseStore
from parley.server.safety_port import SafetyStore
from parley.server.segments_port import SegmentsPort
from parley.server.store_ports import (
    Conversations,
    Directory,
    Knowledge,
    Lifecycle,
    MessageLog,
    Profiles,
    Tickets,
)
from parley.server.tagdefs_port import TagDefinitionStore
from parley.server.uploads_port import KnowledgeUploads

__all__ = [
    "Broker",
    "BrokerUnavailable",
    "DownHandler",
    "GapHandler",
    "MessageHandler",
    "Store",
    "StoreUnavailable",
]


class Store(
    Lifecycle,
    Directory,
    Conversations,
    MessageLog,
    Tickets,
    Profiles,
    Knowledge,
    SafetyStore,
    InvitationStore,
    EventLog,
    ActivationStore,
    CampaignStore,
    JourneyStore,
    ConsoleStore,
    TagDefinitionStore,
    LeaseStore,
    KnowledgeUploads,
    AudienceProfiles,
    Identities,
    SegmentsPort,
    ErasureStore,
    Protocol,
):
    """Durable state: the union of the store's role ports (what an adapter implements).

    Each role's guarantees are on its port in :mod:`parley.server.store_ports`
    (:class:`Directory`, :class:`Conversations`, :class:`MessageLog`, :class:`Tickets`,
    :class:`Profiles`, :class:`Knowledge`), :class:`~parley.server.safety_port.SafetyStore`
    and :class:`~parley.server.invites_port.InvitationStore`.
    Every method may raise :class:`StoreUnavailable`.
    """


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

    async def close(self) -> None:
        """Stop for good: hand over (or drop) what was published before, leave every channel
        and release the connections. Nothing is delivered to the handler afterwards."""

    async def ping(self) -> None:
        """Round-trip to the backing service; raise :class:`BrokerUnavailable` if it fails."""

    async def subscribe(self, channels: Collection[str]) -> None:
        """Subscribe (idempotent). Returns once the subscription is active."""

    async def unsubscribe(self, channels: Collection[str]) -> None:
        """Stop delivering ``channels`` to the handler at once (idempotent; unknown ones are ignored)."""

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
