"""A campaign sender over a node's store whose clock the test moves (days pass in a test)."""

from __future__ import annotations

from parley.server.services.audience_recipients import AudienceRecipients
from parley.server.services.campaigns import CampaignService
from tests.harness import RunningNode


class Clock:
    """A settable time in ms."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def sender(node: RunningNode, clock: Clock) -> CampaignService:
    """A second campaign sender (as on another node) sharing the node's store and send policy."""
    s, store = node.node.services, node.node.store

    async def variables(app: str) -> list[str]:
        return list(await s.segments.attr_types(app))

    async def members(app: str, seg: str, after: str, limit: int) -> list[str]:
        return (await s.segments.members(app, seg, after, limit))[0]

    service = CampaignService(
        store, s.send_policy, AudienceRecipients(store), members=members, variables=variables,
        segment_exists=s.segments.get, everyone=store.profile_page, clock=clock,
    )  # fmt: skip
    # Its creations reach the node's attributor as the node's own would; a campaign created on a
    # node that does not tell is seen within the attributor's cache ttl (test_conversion_recovery).
    service.on_created.append(s.conversions.forget)
    return service
