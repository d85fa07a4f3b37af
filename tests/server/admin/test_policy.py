"""The app's reach policy through the admin API: whose presence users may watch, whom they may add."""

from __future__ import annotations

import httpx

from parley.proto import frames
from tests.harness import RunningNode
from tests.wsclient import RawClient


async def test_an_app_sets_its_own_presence_and_add_policy(node: RunningNode, api: httpx.AsyncClient) -> None:
    assert (await api.get("/v1/policy")).json() == {"presence": "shared", "add": "anyone"}, (
        "the node defaults"
    )
    alice = await RawClient.connect(node.url, await node.token("alice"))
    refused = await alice.request(frames.PresenceSub, users=["agent"])
    assert isinstance(refused, frames.Error) and refused.code == "forbidden"

    changed = await api.put("/v1/policy", json={"presence": "all", "add": "contacts"})
    assert changed.status_code == 200 and changed.json() == {"presence": "all", "add": "contacts"}
    assert isinstance(await alice.request(frames.PresenceSub, users=["agent"]), frames.Ok)
    stranger_group = await alice.request(frames.ConvCreate, kind="group", members=["stranger"])
    assert isinstance(stranger_group, frames.Error) and stranger_group.code == "forbidden"

    partly = await api.put("/v1/policy", json={"add": "anyone"})
    assert partly.json() == {"presence": "all", "add": "anyone"}, "fields left out keep their value"
    assert isinstance(
        await alice.request(frames.ConvCreate, kind="group", members=["stranger"]), frames.ConvResult
    )

    bad = await api.put("/v1/policy", json={"presence": "everyone"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    await alice.close()


async def test_the_admin_client_reads_and_changes_the_policy(node: RunningNode) -> None:
    from parley.sdk import AdminClient, AppPolicy

    async with AdminClient(node.http, node.api_key) as admin:
        assert await admin.policy() == AppPolicy(presence="shared", add="anyone")
        assert await admin.set_policy(add="contacts") == AppPolicy(presence="shared", add="contacts")
        assert (await admin.policy()).add == "contacts"
