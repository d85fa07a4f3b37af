"""The marketers' console API over plain HTTP against a real node: roles, CSRF, both forms of a
segment rule from the Python grammar, errors naming their field, campaigns audited."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.harness import RunningNode
from tests.server.console.conftest import login
from tests.server.services.test_send_policy import profile

pytestmark = pytest.mark.timeout(60)

HELLO = {"versions": {"en": {"text": "Hi {{user}}"}, "zh-CN": {"text": "你好 {{user}}"}}, "default": "en"}
READS = [
    "segments",
    "campaigns",
    "marketing/policy",
    "campaigns/cmp_x",
    "campaigns/cmp_x/results",
    "journeys",
]
WRITES = ["segments/parse", "segments/explain", "segments", "campaigns", "campaigns/render",
          "campaigns/cmp_x/pause", "campaigns/cmp_x/resume", "campaigns/cmp_x/cancel"]  # fmt: skip


async def test_an_agent_gets_403_on_every_marketer_route_and_page(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    csrf = await login(browser, node.app.app, "ann")
    for path in READS:
        r = await browser.get(f"/console/api/{path}")
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), path
    for path in WRITES:
        r = await browser.post(f"/console/api/{path}", headers={"x-csrf-token": csrf}, json={})
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), path
    for page in ("segments", "campaigns", "journeys"):
        r = await browser.get(f"/console/{page}")
        assert r.status_code == 403 and "marketer" in r.text


async def test_marketer_writes_need_the_csrf_token(node: RunningNode, browser: httpx.AsyncClient) -> None:
    await login(browser, node.app.app, "mia")
    r = await browser.post("/console/api/segments/parse", json={"text": "open_ticket"})
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    assert (await browser.get("/console/segments")).status_code == 200


async def test_both_forms_of_a_rule_come_from_the_python_grammar(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    for user, consent in (("u1", True), ("u2", True), ("u3", False)):
        await profile(node, user, consent=consent)
    h = {"x-csrf-token": await login(browser, node.app.app, "mia")}
    text = 'consent("marketing") and not open_ticket'
    r = await browser.post("/console/api/segments/parse", headers=h, json={"text": text})
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["text"], got["count"], len(got["sample"])) == (text, 2, 2)
    assert [i["text"] for i in got["items"]] == ['consent("marketing")', "not open_ticket"]
    # the form sends JSON; the server prints the same canonical text
    back = await browser.post("/console/api/segments/parse", headers=h, json={"rule": got["rule"]})
    assert back.json()["text"] == text
    bad = await browser.post(
        "/console/api/segments/parse", headers=h, json={"text": 'consent("marketing") and'}
    )
    problem = bad.json()
    assert (bad.status_code, problem["code"], problem["field"]) == (422, "segment_invalid", "seg-text")
    assert problem["path"].startswith("@")
    pid = got["sample"][0]["pid"]
    why = await browser.post("/console/api/segments/explain", headers=h, json={"text": text, "pid": pid})
    assert why.json()["member"] is True and len(why.json()["clauses"]) >= 3


async def test_a_campaign_from_the_console_is_audited_and_errors_name_the_field(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    pid = await profile(node, "u1")
    h = {"x-csrf-token": await login(browser, node.app.app, "mia")}
    drafts = await browser.post(
        "/console/api/campaigns/render", headers=h, json={"template": HELLO, "pid": pid}
    )
    assert drafts.json()["languages"] == {
        "en": {"text": "Hi u1", "card": None, "buttons": [], "quick_replies": []},
        "zh-CN": {"text": "你好 u1", "card": None, "buttons": [], "quick_replies": []},
    }
    body = {
        "name": "Sale",
        "topic": "marketing",
        "pids": [pid],
        "variants": [{"id": "a", "weight": 90, "template": HELLO}],
    }
    r = await browser.post("/console/api/campaigns", headers=h, json=body)
    assert (r.status_code, r.json()["field"]) == (422, "c-variants")
    r = await browser.post(
        "/console/api/campaigns",
        headers=h,
        json={**body, "variants": [{"id": "a", "weight": 100, "template": HELLO}], "start_at": 1},
    )
    assert (r.status_code, r.json()["field"]) == (422, "c-schedule")
    r = await browser.post(
        "/console/api/campaigns",
        headers=h,
        json={**body, "variants": [{"id": "a", "weight": 100, "template": HELLO}]},
    )
    assert r.status_code == 201, r.text
    cid = r.json()["cid"]
    await node.node.services.campaigns.get(node.app.app, cid)
    # the list carries each campaign's recipients per decision: the page asks once, not once a campaign
    async with asyncio.timeout(20):  # a ceiling for a loaded machine: the campaign starts at once
        while (await node.node.services.campaigns.get(node.app.app, cid)).state != "done":
            await asyncio.sleep(0.05)
    listed = (await browser.get("/console/api/campaigns")).json()
    assert [(c["cid"], c["counts"]) for c in listed] == [(cid, {"sent": 1})]
    records, _ = await node.node.services.moderation.audit_page(node.app.app, after="", limit=100)
    assert ("console:mia", "campaign.create", cid) in [(x.actor, x.action, x.target) for x in records]
