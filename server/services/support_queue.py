"""The waiting queue pushed to agents: a ``support_queue_event`` when a ticket enters or leaves it.

Agents are not members of a waiting conversation, so no conversation frame reaches them; the
support service calls :meth:`QueueNotifier.changed` after every ticket transition, and a transition
into or out of ``waiting_for_agent`` is published once per agent of the app on that agent's user
channel (every device, every node). Why per agent rather than one app-wide channel: the user
channel exists already (every connection subscribes to its own at login), so nothing new is
subscribed or cleaned up; the cost is one publish per agent per queue change, a few dozen at most.

The event is a hint (publish is at-most-once): a client asks ``support_queue`` for the queue, and
keeps a slow poll only to heal a lost event. Nothing runs in the background: the publish is done
inside the transition's call, so there is nothing to stop when the node stops; a store error here
is logged and swallowed (the transition itself is already stored).
"""

from __future__ import annotations

import logging

from parley.proto import encode, frames
from parley.proto.vocabulary import SupportState, UserRole
from parley.server.channels import user_channel
from parley.server.errors import StoreUnavailable
from parley.server.models import Ticket
from parley.server.ports import Broker
from parley.server.store_ports import Directory

__all__ = ["QueueNotifier"]

log = logging.getLogger("parley.support")


class QueueNotifier:
    """Publishes ``support_queue_event`` to the app's agents when the waiting queue changes."""

    def __init__(self, store: Directory, broker: Broker) -> None:
        self._store = store
        self._broker = broker
        #: Events published (one per agent) — metrics and tests.
        self.published = 0

    async def changed(self, before: str, ticket: Ticket) -> None:
        """``ticket`` moved from state ``before``: tell every agent if it entered or left the queue."""
        waiting = SupportState.WAITING_FOR_AGENT
        if (before == waiting) == (ticket.state == waiting):
            return
        try:
            agents = await self._store.list_users(ticket.app, UserRole.AGENT)
        except StoreUnavailable:
            log.warning("support: the queue change of %s was not pushed (store unavailable)", ticket.conv)
            return
        frame = encode(frames.SupportQueueEvent(conv=ticket.conv, state=str(ticket.state)))
        for agent in agents:
            self._broker.publish(user_channel(ticket.app, agent.user), frame)
        self.published += len(agents)
