"""AdminClient's named leases against a real node: two processes of one app, one holder at a time,
release by the holder only, ``None`` when nobody holds it and ``lease_invalid`` for bad input."""

from __future__ import annotations

import pytest

from parley.sdk import AdminClient, AdminError, LeaseInfo
from tests.harness import RunningNode

pytestmark = pytest.mark.timeout(30)


async def test_two_processes_agree_on_one_holder(node: RunningNode) -> None:
    async with AdminClient(node.http, node.api_key) as a, AdminClient(node.http, node.api_key) as b:
        assert await a.lease("support-bot") is None
        mine = await a.acquire_lease("support-bot", "host-a:1", ttl_s=30)
        assert isinstance(mine, LeaseInfo)
        assert (mine.name, mine.holder, mine.held) == ("support-bot", "host-a:1", True)
        theirs = await b.acquire_lease("support-bot", "host-b:2")
        assert (theirs.holder, theirs.held, theirs.until) == ("host-a:1", False, mine.until)
        assert await b.lease("support-bot") == LeaseInfo("support-bot", "host-a:1", mine.until, False)
        renewed = await a.acquire_lease("support-bot", "host-a:1")
        assert renewed.held

        assert not await b.release_lease("support-bot", "host-b:2"), "409 lease_not_held is False"
        assert await a.release_lease("support-bot", "host-a:1")
        assert not await a.release_lease("support-bot", "host-a:1")
        assert await a.lease("support-bot") is None
        assert (await b.acquire_lease("support-bot", "host-b:2")).held, "free at once after a release"

        with pytest.raises(AdminError) as caught:
            await a.acquire_lease("support-bot", "host-a:1", ttl_s=0)
        assert (caught.value.status, caught.value.code) == (422, "lease_invalid")
        with pytest.raises(AdminError) as caught:
            await a.lease("bad name")
        assert (caught.value.status, caught.value.code) == (422, "lease_invalid")
