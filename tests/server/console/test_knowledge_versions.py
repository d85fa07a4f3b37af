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


async def test_an_admin_uploads_a_file_the_bot_takes_it_and_settles_it_once(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    h = {"x-csrf-token": await login(browser, node.app.app, "ada")}
    for bad, code in (({"source": "notes.pdf", "content": "x"}, "invalid_request"),
                      ({"source": "../faq.md", "content": "x"}, "invalid_request"),
                      ({"source": "faq.md", "content": "  "}, "invalid_request")):  # fmt: skip
        r = await browser.post("/console/api/knowledge/uploads", headers=h, json=bad)
        assert (r.status_code, r.json()["code"], r.json()["field"]) == (422, code, "kb-file"), r.text
    big = await browser.post(
        "/console/api/knowledge/uploads", headers=h, json={"source": "a.md", "content": "x" * (6 << 20)}
    )
    assert big.status_code in (413, 422)
    made = await browser.post(
        "/console/api/knowledge/uploads", headers=h, json={"source": "faq.md", "content": "# FAQ\n你好"}
    )
    assert made.status_code == 201 and made.json()["state"] == "pending" and "content" not in made.json()
    uid = made.json()["id"]
    async with httpx.AsyncClient(
        base_url=node.http, headers={"authorization": f"Bearer {node.api_key}"}
    ) as api:
        (pending,) = (await api.get("/v1/knowledge/uploads", params={"state": "pending"})).json()["uploads"]
        assert (pending["id"], pending["source"], pending["content"]) == (uid, "faq.md", "# FAQ\n你好")
        assert (await api.post(f"/v1/knowledge/uploads/{uid}", json={"version": 3})).status_code == 204
        late = await api.post(f"/v1/knowledge/uploads/{uid}", json={"error": "late"})
        assert (late.status_code, late.json()["code"]) == (422, "invalid_request"), "settled once"
        assert (await api.get("/v1/knowledge/uploads", params={"state": "pending"})).json()["uploads"] == []
        actions = [r["action"] for r in (await api.get("/v1/audit")).json()["records"]]
        assert "knowledge.upload" in actions and "knowledge.ingest" in actions
    (listed,) = (await browser.get("/console/api/knowledge/uploads")).json()["uploads"]
    assert (listed["state"], listed["version"], listed["by"]) == ("ingested", 3, "console:ada")
    await login(browser, node.app.app, "ann")
    assert (await browser.get("/console/api/knowledge/uploads")).status_code == 403
