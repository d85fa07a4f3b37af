"""The ``everyone`` audience: every live profile of the app, paged from the store (never loaded
whole), each still through the send policy (no consent, no message)."""

from __future__ import annotations

import pytest

from parley.sdk import AdminClient, AdminError
from parley.server.errors import ServiceError
from tests.harness import RunningNode
from tests.server.services.test_campaigns import definition
from tests.server.services.test_send_policy import official_messages, profile


async def test_everyone_gets_it_once_through_the_policy_in_pages(node: RunningNode) -> None:
    app, s = node.app.app, node.node.services
    for i in range(7):
        await profile(node, f"u{i}")
    for i in range(2):
        await profile(node, f"no{i}", consent=False)
    other = await s.apps.create_app("other")  # another app's profiles are not "everyone" here
    await node.node.store.resolve_or_create(other.app.app, "user", "stranger", 1)
    campaign = await s.campaigns.create(app, definition(everyone=True, rate=3))  # pages of 3
    assert s.campaigns.definition(campaign).everyone
    assert await s.campaigns.run(app, campaign.cid) == "done"
    assert await s.campaigns.counts(app, campaign.cid) == {"sent": 7, "no_consent": 2}
    for i in range(7):
        assert len(await official_messages(node, f"u{i}")) == 1
    for i in range(2):
        assert await official_messages(node, f"no{i}") == []
    assert s.campaigns.evaluated == 9


@pytest.mark.parametrize("more", [{"pids": ["p1"]}, {"segment": "vip"}])
async def test_everyone_with_another_audience_is_refused(node: RunningNode, more: dict[str, object]) -> None:
    app, s = node.app.app, node.node.services
    await profile(node, "u0")
    with pytest.raises(ServiceError) as err:
        await s.campaigns.create(app, definition(everyone=True, **more))
    assert err.value.code.value == "campaign_invalid"
    assert await s.campaigns.list_all(app) == []


async def test_everyone_of_an_app_without_profiles_is_refused(node: RunningNode) -> None:
    app, s = node.app.app, node.node.services
    with pytest.raises(ServiceError) as err:
        await s.campaigns.create(app, definition(everyone=True))
    assert err.value.code.value == "campaign_invalid" and "no profiles" in err.value.message
    assert await s.campaigns.list_all(app) == []


async def test_everyone_through_the_admin_api(node: RunningNode) -> None:
    await profile(node, "u0")
    template = {"versions": {"en": {"text": "Hello all"}}, "default": "en"}
    async with AdminClient(node.http, node.api_key) as admin:
        made = await admin.create_campaign({
            "name": "All", "topic": "marketing", "everyone": True,
            "variants": [{"id": "a", "weight": 100, "template": template}],
        })  # fmt: skip
        assert made["definition"]["everyone"] is True and made["state"] == "scheduled"
        with pytest.raises(AdminError) as err:
            await admin.create_campaign({**made["definition"], "pids": ["x"]})
        assert (err.value.status, err.value.code) == (422, "campaign_invalid")
