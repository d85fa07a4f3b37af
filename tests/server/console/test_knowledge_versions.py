"""Knowledge sources' versions over plain HTTP against a real node: the admin API and the console."""

from __future__ import annotations

import httpx

from tests.harness import RunningNode
from tests.server.console.conftest import login


def upload(n: int) -> dict[str, object]:
    return {"chunks": [{"id": f"faq::{i}", "text": f"answer {i}"} for i in range(n)], "vectors": []}


async def test_each_upload_of_a_source_is_a_version_listed_newest_first_the_live_one_first(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    async with httpx.AsyncClient(
        base_url=node.http, headers={"authorization": f"Bearer {node.api_key}"}
    ) as api:
        assert (await api.get("/v1/knowledge/sources/faq.md/versions")).json() == {
            "source": "faq.md",
            "revisions": [],
        }
        first = (await api.put("/v1/knowledge/sources/faq.md", json=upload(2))).json()["version"]
        again = (await api.put("/v1/knowledge/sources/faq.md", json=upload(3))).json()["version"]
        got = (await api.get("/v1/knowledge/sources/faq.md/versions")).json()["revisions"]
        assert [(r["version"], r["chunks"]) for r in got] == [(again, 3), (first, 2)]
        live = (await api.get("/v1/knowledge")).json()
        assert live["version"] == again and len(live["chunks"]) == 3, "the bot loads the latest upload"
        assert "/v1/knowledge/sources/{source}/versions" in (await api.get("/openapi.json")).json()["paths"]
    h = {"x-csrf-token": await login(browser, node.app.app, "ada")}
    deleted = (await browser.delete("/console/api/knowledge/faq.md", headers=h)).json()["version"]
    revisions = (await browser.get("/console/api/knowledge/faq.md/versions")).json()
    assert [(r["version"], r["chunks"]) for r in revisions] == [(deleted, 0), (again, 3), (first, 2)]
    await login(browser, node.app.app, "ann")
    assert (await browser.get("/console/api/knowledge/faq.md/versions")).status_code == 403, "admins only"
