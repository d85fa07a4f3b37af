"""Admin API for the knowledge base, support tickets and profiles, against a real node."""

from __future__ import annotations

import base64

import httpx

from parley.proto import frames
from tests.harness import RunningNode
from tests.wsclient import RawClient


async def test_knowledge_ingest_reingest_and_versions(api: httpx.AsyncClient) -> None:
    vector = base64.b64encode(b"\x00\x00\x80?" * 4).decode()
    upload = {
        "chunks": [{"id": "faq::1", "text": "Returns within 30 days"}, {"id": "faq::2", "text": "退货"}],
        "vectors": [{"chunk_id": "faq::1", "model": "minilm", "view": "body", "vector": vector}],
    }
    stored = await api.put("/v1/knowledge/sources/faq_en.csv", json=upload)
    assert stored.status_code == 200 and stored.json()["chunks"] == 2
    first = stored.json()["version"]
    dump = (await api.get("/v1/knowledge")).json()
    assert dump["version"] == first and [c["chunk"]["id"] for c in dump["chunks"]] == ["faq::1", "faq::2"]
    assert dump["vectors"][0]["vector"] == vector
    again = await api.put("/v1/knowledge/sources/faq_en.csv", json={"chunks": upload["chunks"][:1]})
    assert again.json()["version"] > first
    assert len((await api.get("/v1/knowledge")).json()["chunks"]) == 1
    gone = await api.delete("/v1/knowledge/sources/faq_en.csv")
    assert (await api.get("/v1/knowledge/version")).json()["version"] == gone.json()["version"]
    bad = await api.put("/v1/knowledge/sources/x.md", json={"chunks": [{"text": "no id"}]})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"
    orphan = await api.put("/v1/knowledge/sources/x.md", json={"chunks": [], "vectors": upload["vectors"]})
    assert orphan.status_code == 422


async def test_tickets_handoff_assign_resolve_and_profiles(node: RunningNode, api: httpx.AsyncClient) -> None:
    customer = await RawClient.connect(node.url, await node.token("cust"))
    conv = (await customer.request(frames.ConvCreate, kind="support")).conv.conv
    await api.post("/v1/users", json={"user": "ann", "role": "agent"})
    tickets = (await api.get("/v1/support/tickets", params={"state": "bot"})).json()["tickets"]
    assert [t["conv"] for t in tickets] == [conv]
    waiting = await api.post(f"/v1/support/tickets/{conv}/handoff", json={"reason": "vip"})
    assert waiting.json()["state"] == "waiting_for_agent"
    assigned = await api.post(f"/v1/support/tickets/{conv}/assign", json={"agent": "ann"})
    assert (assigned.json()["state"], assigned.json()["agent"]) == ("agent", "ann")
    not_agent = await api.post(f"/v1/support/tickets/{conv}/assign", json={"agent": "cust"})
    assert not_agent.status_code == 422
    assert (await api.post(f"/v1/support/tickets/{conv}/resolve")).json()["state"] == "resolved"
    tagged = await api.post(
        "/v1/users/cust/tags", json={"add": [{"name": "vip", "ttl": 3600}], "source": "agent"}
    )
    assert tagged.json()["tags"][0]["name"] == "vip" and tagged.json()["tags"][0]["expires"] > 0
    profile = (await api.get("/v1/users/cust/profile")).json()
    assert [t["source"] for t in profile["tags"]] == ["agent"]
    missing = await api.get("/v1/support/tickets/c_nope")
    assert missing.status_code == 404
    await customer.close()


async def test_agents_work_through_the_admin_api_too(node: RunningNode, api: httpx.AsyncClient) -> None:
    customer = await RawClient.connect(node.url, await node.token("cust"))
    conv = (await customer.request(frames.ConvCreate, kind="support")).conv.conv
    for agent in ("ann", "bo"):
        await api.post("/v1/users", json={"user": agent, "role": "agent"})
    await api.post(f"/v1/support/tickets/{conv}/assign", json={"agent": "ann"})
    moved = await api.post(f"/v1/support/tickets/{conv}/assign", json={"agent": "bo"})
    assert (moved.json()["state"], moved.json()["agent"]) == ("agent", "bo"), (
        "assigning an owned ticket transfers it"
    )
    note = await api.post(
        f"/v1/support/tickets/{conv}/notes", json={"agent": "bo", "text": "double-check the address"}
    )
    assert note.status_code == 201 and note.json()["conv"] != conv
    notes = (await api.get(f"/v1/support/tickets/{conv}/notes")).json()["messages"]
    assert [m["body"]["text"] for m in notes if m["kind"] == "text"] == ["double-check the address"]
    released = await api.post(f"/v1/support/tickets/{conv}/release")
    assert released.json()["state"] == "bot"
    again = await api.post(f"/v1/support/tickets/{conv}/release")
    assert again.status_code == 422 and again.json()["code"] == "invalid_request"
    page = await customer.request(frames.History, conv=conv)
    assert "double-check" not in str([m.body for m in page.messages])
    await customer.close()
