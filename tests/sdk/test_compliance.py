"""Compliance through AdminClient and the SDK on a real node: export and erase a person, the erase
records, the audit log's filters; after the erase the signed-in user's own profile writes and a
bot's tags are refused (``identifier_erased``) instead of re-creating the profile, until the app
lifts the tombstone of an identifier explicitly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.sdk import AdminClient, Client, ReplyError
from parley.sdk.errors import AdminError
from tests.harness import RunningNode, running_node

pytestmark = pytest.mark.timeout(60)

SCHEMA = {"attributes": {"plan": {"type": "string"}}, "identity": {"default_region": "GB"}}


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[RunningNode]:
    async with running_node(tmp_path) as running:
        yield running


async def test_export_erase_release_and_the_audit_log(node: RunningNode) -> None:
    async with AdminClient(node.http, node.api_key) as admin:
        await admin.set_audience_schema(SCHEMA)
        client = Client(
            node.url, token=await node.token("ann"), min_reconnect_delay=0.02, max_reconnect_delay=0.2
        )
        async with client as ann:
            pid = await ann.identify({"phone": "020 7946 0958", "email": "ann@example.com"})
            await ann.set_attributes({"plan": "gold"})
            items = [item async for item in admin.export_person(pid)]
            assert items[0]["type"] == "profile" and items[0]["data"]["attributes"] == {"plan": "gold"}
            assert {"kind": "email", "value": "ann@example.com"} in [
                i["data"] for i in items if i["type"] == "identifier"
            ]
            record = await admin.erase_person(pid)
            assert record.state == "done" and record.pid == pid and record.counts["identifiers"] == 3
            with pytest.raises(ReplyError) as refused:
                await ann.set_attributes({"plan": "silver"})
            assert refused.value.code == "identifier_erased", "the signed-in user does not re-create it"
            with pytest.raises(ReplyError) as again:
                await ann.identify({"email": "ann@example.com"})
            assert again.value.code == "identifier_erased"
        with pytest.raises(AdminError) as tagged:
            await admin.tag("ann", add=["vip"], source="bot")
        assert tagged.value.code == "identifier_erased", "a bot's tag does not re-create it either"
        with pytest.raises(AdminError) as gone:
            await admin.audience_profile(pid)
        assert gone.value.code == "profile_not_found"
        assert await admin.erase_person(pid) == record
        assert (await admin.erasures()) == ([record], False)
        # The person comes back: the app lifts the email's tombstone; the phone stays refused.
        assert await admin.release_identifiers([("email", "ANN@example.com")]) == 1
        fresh = await admin.identify([("email", "ann@example.com")])
        assert fresh.created and fresh.pid != pid
        with pytest.raises(AdminError) as phone:
            await admin.identify([("phone", "+442079460958")])
        assert phone.value.code == "identifier_erased"
        with pytest.raises(AdminError) as bad:
            await admin.release_identifiers([("phone", "12")])
        assert bad.value.code == "identifier_invalid"
        erases = await admin.audit(action="audience.erase")
        assert [r.target for r in erases.records] == [pid]
        assert [r.action for r in (await admin.audit(action="audience.release")).records] == [
            "audience.release"
        ]
        assert (await admin.audit(actor="key:nobody")).records == ()
