"""The admins' console API over plain HTTP against a real node: keys, audit, words, reviews, knowledge."""

from __future__ import annotations

import httpx

from parley.sdk import Client
from tests.harness import RunningNode
from tests.server.console.conftest import login


async def test_admins_manage_keys_words_reviews_and_knowledge_and_read_the_audit(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    h = {"x-csrf-token": await login(browser, node.app.app, "ada")}
    made = (await browser.post("/console/api/keys", headers=h)).json()
    assert made["api_key"].startswith("pk_")
    assert made["id"] in [k["id"] for k in (await browser.get("/console/api/keys")).json()]
    async with httpx.AsyncClient(
        base_url=node.http, headers={"authorization": f"Bearer {made['api_key']}"}
    ) as api:
        assert (await api.get("/v1/audit")).status_code == 200, "the new key works"
        assert (await browser.delete(f"/console/api/keys/{made['id']}", headers=h)).status_code == 204
        assert (await api.get("/v1/audit")).status_code == 401, "revoked at once"

    bad = await browser.put("/console/api/words/spam", headers=h, json={"action": "block", "words": ["x"]})
    assert (bad.status_code, bad.json()["field"]) == (422, "action")
    put = await browser.put(
        "/console/api/words/spam", headers=h, json={"action": "flag", "words": ["cheap pills"]}
    )
    assert put.json()["words"] == ["cheap pills"]
    assert [w["name"] for w in (await browser.get("/console/api/words")).json()] == ["spam"]

    async with (
        Client(node.url, token=await node.token("eve")) as eve,
        Client(node.url, token=await node.token("bob")) as bob,
    ):
        conv = (await eve.create_group("g", ["bob"])).conv
        sent = await eve.send(conv, text="rude words")
        await bob.report(conv, sent.seq, reason="abuse")
    items = (await browser.get("/console/api/reviews")).json()
    assert [(i["author"], i["reason"]) for i in items] == [("eve", "abuse")]
    r = await browser.post(
        f"/console/api/reviews/{items[0]['id']}/resolve", headers=h, json={"outcome": "recall"}
    )
    assert r.status_code == 204
    assert (await browser.get("/console/api/reviews")).json() == []
    async with httpx.AsyncClient(
        base_url=node.http, headers={"authorization": f"Bearer {node.api_key}"}
    ) as api:
        page = (await api.get(f"/v1/conversations/{conv}/messages")).json()["messages"]
        assert [m["recalled"] for m in page if m["seq"] == sent.seq] == [True]
        upload = {"chunks": [{"id": "faq::1", "text": "Opening hours"}], "vectors": []}
        assert (await api.put("/v1/knowledge/sources/faq.md", json=upload)).status_code == 200
    kb = (await browser.get("/console/api/knowledge")).json()
    assert kb["sources"] == [{"source": "faq.md", "chunks": 1}]
    assert (await browser.delete("/console/api/knowledge/faq.md", headers=h)).json()["version"] > kb[
        "version"
    ]

    audit = (await browser.get("/console/api/audit", params={"actor": "console:ada"})).json()
    actions = [r["action"] for r in audit["records"]]
    assert actions == [
        "console.login",
        "key.create",
        "key.revoke",
        "words.put",
        "review.resolve",
        "knowledge.delete",
    ]
    only_keys = (await browser.get("/console/api/audit", params={"action": "key."})).json()["records"]
    assert [r["action"] for r in only_keys] == ["key.create", "key.revoke"]


async def test_the_admin_api_is_for_admins_only(node: RunningNode, browser: httpx.AsyncClient) -> None:
    h = {"x-csrf-token": await login(browser, node.app.app, "ann")}  # an agent
    for method, path in [
        ("GET", "audit"),
        ("POST", "keys"),
        ("GET", "words"),
        ("GET", "reviews"),
        ("GET", "knowledge"),
    ]:
        r = await browser.request(method, f"/console/api/{path}", headers=h)
        assert r.status_code == 403, path


async def test_agents_read_the_customers_audience_profile_without_creating_one(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    from tests.server.console.test_inbox_e2e import audience_of

    await login(browser, node.app.app, "ann")
    assert (await browser.get("/console/api/customers/nobody/audience")).json() == {
        "profile": None,
        "events": [],
    }
    async with httpx.AsyncClient(
        base_url=node.http, headers={"authorization": f"Bearer {node.api_key}"}
    ) as api:
        missing = await api.get("/v1/audience/identifiers/user/nobody")
        assert missing.status_code == 404, "reading did not create a profile"
        await audience_of(api, "cus")
    seen = (await browser.get("/console/api/customers/cus/audience")).json()
    assert seen["profile"]["consent"]["marketing"]["state"] == "granted"
    assert "purchase" in [e["name"] for e in seen["events"]], "newest first, derived events too"
