"""The agents' extra console API over plain HTTP against a real node: the campaigns a customer got."""

from __future__ import annotations

from pathlib import Path

import httpx

from parley.proto.templates import Content, Template
from parley.server.services.campaign_defs import CampaignIn, Variant
from tests.harness import running_node
from tests.server.console.conftest import PASSWORD, login
from tests.server.services.test_send_policy import profile


def _variants() -> list[Variant]:
    hi = Template(versions={"en": Content(text="Hi {{user}}")}, default="en")
    return [Variant("a", 50, hi), Variant("b", 50, hi)]


async def test_an_agent_sees_the_campaigns_a_customer_received_with_read_and_clicked(tmp_path: Path) -> None:
    async with running_node(tmp_path, campaign_interval=0) as node:
        app, s = node.app.app, node.node.services
        await s.console.add_user(app, "ann", PASSWORD, ["agent"])
        await s.console.add_user(app, "mia", PASSWORD, ["marketer"])
        cara, dan = await profile(node, "cara"), await profile(node, "dan")
        first = await s.campaigns.create(
            app, CampaignIn("Winter sale", "marketing", _variants(), pids=[cara, dan])
        )
        other = await s.campaigns.create(app, CampaignIn("Dan only", "marketing", _variants(), pids=[dan]))
        for c in (first, other):
            assert await s.campaigns.run(app, c.cid) == "done"
        got = (await s.campaigns.counts(app, first.cid))["sent"]
        assert got == 2
        async with httpx.AsyncClient(base_url=node.http, timeout=20) as tab:
            await login(tab, app, "ann")
            r = await tab.get("/console/api/customers/cara/campaigns")
            assert r.status_code == 200, r.text
            (row,) = r.json()["campaigns"]
            assert (row["campaign"], row["name"], row["read"], row["clicked"]) == (
                first.cid,
                "Winter sale",
                False,
                False,
            )
            assert row["variant"] in ("a", "b") and row["sent"] > 0
            assert "pid" not in row and cara not in r.text, "the audience pid is not shown"
            source = f"campaign:{first.cid}"
            await s.measurement.record(app, source, cara, "read", arm=row["variant"])
            await s.measurement.record(app, source, cara, "clicked", arm=row["variant"])
            (row,) = (await tab.get("/console/api/customers/cara/campaigns")).json()["campaigns"]
            assert (row["read"], row["clicked"]) == (True, True)
            dans = (await tab.get("/console/api/customers/dan/campaigns")).json()["campaigns"]
            assert [d["name"] for d in dans] == ["Dan only", "Winter sale"] or {d["name"] for d in dans} == {
                "Dan only",
                "Winter sale",
            }
            assert (await tab.get("/console/api/customers/nobody/campaigns")).json() == {"campaigns": []}
            bad = await tab.get("/console/api/customers/b%20ad/campaigns")
            assert (bad.status_code, bad.json()["code"]) == (422, "invalid_request")
        async with httpx.AsyncClient(base_url=node.http, timeout=20) as tab:
            await login(tab, app, "mia")
            r = await tab.get("/console/api/customers/cara/campaigns")
            assert (r.status_code, r.json()["code"]) == (403, "forbidden")
