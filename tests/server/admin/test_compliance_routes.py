"""Export and erase of one person through the admin API, on a real node over loopback: the export
holds everything stored about them (and nobody else's data), the erase deletes it, tombstones the
messages and keeps only hashed identifiers, a later identify or event with one of them is refused
(``identifier_erased``), a retry after a crash part-way finishes the job, and two apps stay apart."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import httpx
import pytest

from parley.server.errors import StoreUnavailable
from tests.harness import RunningNode

pytestmark = pytest.mark.timeout(60)

SCHEMA = {
    "attributes": {"plan": {"type": "string"}},
    "consent_topics": ["marketing"],
    "identity": {"default_region": "US"},
    "events": {"viewed": {"properties": {"sku": "string"}}},
}
PHONE, EMAIL = "+14155550123", "ann.secret@example.com"
NAME = "Ann Secretname"


def problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.json()


async def _ann(api: httpx.AsyncClient, node: RunningNode) -> tuple[str, str]:
    """Ann: phone, email, user id, a cookie profile merged in, a tag, consent, events, messages
    in a conversation with Bob (who writes too). Returns (pid, conv)."""
    assert (await api.put("/v1/audience/schema", json=SCHEMA)).status_code == 200
    cookie = (
        await api.post("/v1/audience/identify", json={"identifiers": [{"kind": "cookie", "value": "ck-ann"}]})
    ).json()
    ids = [{"kind": "phone", "value": PHONE}, {"kind": "email", "value": EMAIL}, {"kind": "user", "value": "ann"},
           {"kind": "cookie", "value": "ck-ann"}]  # fmt: skip
    who = (await api.post("/v1/audience/identify", json={"identifiers": ids})).json()
    pid = who["pid"]
    assert pid == cookie["pid"] or who["merged"], who
    patch = {"attributes": {"plan": "gold"}, "add_tags": [{"name": "vip"}], "source": "agent",
             "consent": [{"topic": "marketing", "state": "granted", "ref": "form"}]}  # fmt: skip
    assert (await api.patch(f"/v1/audience/profiles/{pid}", json=patch)).status_code == 200
    events = [{"eid": f"e{n}", "event": "viewed", "user": "ann", "props": {"sku": f"s{n}"}} for n in range(3)]
    assert (await api.post("/v1/audience/events", json={"events": events})).status_code == 200
    await node.node.services.events.flush()
    for name, display in (("ann", NAME), ("bob", "Bob")):
        await api.post("/v1/users", json={"user": name, "name": display, "meta": {"city": "Elm St"}})
    conv = (await api.post("/v1/conversations", json={"kind": "direct", "members": ["ann", "bob"]})).json()[
        "conv"
    ]
    for sender, text in (("ann", "my secret address is 1 Elm St"), ("bob", "thanks"), ("ann", "and call me")):
        r = await api.post(
            f"/v1/conversations/{conv}/messages", json={"sender": sender, "body": {"text": text}}
        )
        assert r.status_code in (200, 201), r.text
    # A support ticket of hers whose summary quotes her (what the hand-off writes for the agent).
    support = (await api.post("/v1/conversations", json={"kind": "support", "members": ["ann"]})).json()[
        "conv"
    ]
    ticket = await node.node.store.get_ticket(node.app.app, support)
    assert ticket is not None and ticket.customer == "ann", ticket
    await node.node.store.save_ticket(
        replace(ticket, reason="refund", summary="ann: my secret address is 1 Elm St")
    )
    return pid, conv


def _lines(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


async def test_export_holds_everything_about_the_person_and_nothing_else(
    api: httpx.AsyncClient, node: RunningNode
) -> None:
    pid, conv = await _ann(api, node)
    # A campaign's delivery-ledger row for her (what the send-policy chain claims per recipient).
    await node.node.store.claim_delivery(node.app.app, "campaign:c1", pid, owner="n", now=1, lease_ms=10)
    got = _lines(await api.get(f"/v1/audience/profiles/{pid}/export"))
    assert [(x["data"]["key"], x["data"]["state"]) for x in got if x["type"] == "delivery"] == [
        ("campaign:c1", "pending")
    ]
    kinds = [x["type"] for x in got]
    assert kinds[0] == "profile" and got[0]["data"]["pid"] == pid
    idents = {(x["data"]["kind"], x["data"]["value"]) for x in got if x["type"] == "identifier"}
    assert {("phone", PHONE), ("email", EMAIL), ("user", "ann"), ("cookie", "ck-ann")} <= idents
    assert any(x["type"] == "tag_change" and x["data"]["name"] == "vip" for x in got)
    assert [x["data"]["state"] for x in got if x["type"] == "consent"] == ["granted"]
    viewed = [x["data"] for x in got if x["type"] == "event" and x["data"]["name"] == "viewed"]
    assert sorted(e["eid"] for e in viewed) == ["e0", "e1", "e2"], "(server events such as lifecycle too)"
    texts = [x["data"]["body"]["text"] for x in got if x["type"] == "message" and x["data"]["conv"] == conv]
    assert texts == ["my secret address is 1 Elm St", "and call me"], "what she wrote, not what Bob wrote"
    assert (conv, "ann") in [
        (x["data"]["conv"], x["data"]["user"]) for x in got if x["type"] == "conversation"
    ]
    assert [x["data"]["summary"] for x in got if x["type"] == "ticket"] == [
        "ann: my secret address is 1 Elm St"
    ]
    users = [x["data"] for x in got if x["type"] == "user"]
    assert [(u["user"], u["name"], u["meta"]) for u in users] == [("ann", NAME, {"city": "Elm St"})], (
        "her directory record, not Bob's"
    )
    problem(await api.get("/v1/audience/profiles/p_nobody/export"), 404, "profile_not_found")
    audit = (await api.get("/v1/audit")).json()["records"]
    assert any(r["action"] == "audience.export" and r["target"] == pid for r in audit)


async def test_erase_deletes_tombstones_refuses_later_use_and_is_idempotent(
    api: httpx.AsyncClient, node: RunningNode
) -> None:
    pid, conv = await _ann(api, node)
    bob = (
        await api.post("/v1/audience/identify", json={"identifiers": [{"kind": "user", "value": "bob"}]})
    ).json()
    erased = await api.post(f"/v1/audience/profiles/{pid}/erase")
    assert erased.status_code == 200, erased.text
    record = erased.json()
    assert record["state"] == "done" and record["pid"] == pid
    assert record["counts"]["events"] >= 3 and record["counts"]["messages"] >= 2
    assert PHONE not in erased.text and EMAIL not in erased.text, "the erase record holds no personal data"
    problem(await api.get(f"/v1/audience/profiles/{pid}"), 404, "profile_not_found")
    problem(await api.get(f"/v1/audience/identifiers/phone/{PHONE}"), 404, "profile_not_found")
    history = (await api.get(f"/v1/conversations/{conv}/messages")).json()
    msgs = history["messages"] if isinstance(history, dict) else history
    by_ann = [m for m in msgs if m["sender"] == "ann"]
    assert by_ann and all(m.get("recalled") and not m["body"] for m in by_ann), by_ann
    assert [m["body"]["text"] for m in msgs if m["sender"] == "bob"] == ["thanks"], "Bob's message stays"
    # Her directory record stays (the conversation still names her) with no personal field left.
    ann = (await api.get("/v1/users/ann")).json()
    assert (ann["name"], ann["meta"]) == ("", {}) and NAME not in erased.text, ann
    assert (await api.get("/v1/users/bob")).json()["name"] == "Bob", "Bob's record stays"
    assert record["counts"]["users"] == 1
    (support,) = [
        c.conv
        for c, _ in await node.node.store.list_user_conversations(node.app.app, "ann")
        if c.kind == "support"
    ]
    ticket = await node.node.store.get_ticket(node.app.app, support)
    assert ticket is not None
    assert (ticket.summary, ticket.reason) == ("", ""), "the ticket no longer quotes her"
    # She rates the resolved ticket afterwards: no chat profile is made again for her.
    await node.node.store.save_ticket(replace(ticket, state="resolved"))
    await node.node.services.support.rate(node.app.app, "ann", support, 5)
    assert await node.node.store.resolve_identifier(node.app.app, "user", "ann") is None
    assert (await api.get(f"/v1/audience/profiles/{bob['pid']}")).status_code == 200, "Bob's profile stays"
    # Later identify / events with one of her identifiers: refused, nothing re-created.
    again = await api.post(
        "/v1/audience/identify", json={"identifiers": [{"kind": "email", "value": EMAIL.upper()}]}
    )
    problem(again, 409, "identifier_erased")
    late = {"events": [{"eid": "late", "event": "viewed", "identifier": {"kind": "phone", "value": PHONE}}]}
    problem(await api.post("/v1/audience/events", json=late), 409, "identifier_erased")
    problem(await api.post("/v1/audience/events", json={"events": [{"eid": "l2", "event": "viewed", "user": "ann"}]}),
            409, "identifier_erased")  # fmt: skip
    problem(await api.get(f"/v1/audience/identifiers/phone/{PHONE}"), 404, "profile_not_found")
    # Idempotent: the same answer again; an unknown person is a clear 404.
    assert (await api.post(f"/v1/audience/profiles/{pid}/erase")).json() == record
    problem(await api.post("/v1/audience/profiles/p_nobody/erase"), 404, "profile_not_found")
    listed = (await api.get("/v1/audience/erasures")).json()
    assert [r["id"] for r in listed["erasures"]] == [record["id"]] and listed["more"] is False
    problem(await api.get("/v1/audience/erasures", params={"limit": "0"}), 422, "invalid_request")
    audit = (await api.get("/v1/audit")).json()["records"]
    assert [r["target"] for r in audit if r["action"] == "audience.erase"] == [pid]
    assert PHONE not in json.dumps(audit) and EMAIL not in json.dumps(audit)


async def test_an_erase_interrupted_part_way_is_finished_by_a_retry(
    api: httpx.AsyncClient, node: RunningNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid, conv = await _ann(api, node)
    store = node.node.store
    real = store.delete_person_rows

    async def crash(app: str, pids: Any) -> int:
        raise StoreUnavailable("the store went away mid-erase")

    monkeypatch.setattr(store, "delete_person_rows", crash)
    assert (await api.post(f"/v1/audience/profiles/{pid}/erase")).status_code == 503
    # Part-way: tombstones kept, messages recalled, events gone; the profile is still there.
    assert (await api.get(f"/v1/audience/profiles/{pid}")).status_code == 200
    assert (await api.get("/v1/users/ann")).json()["name"] == "", "the directory record went before"
    problem(await api.post("/v1/audience/identify", json={"identifiers": [{"kind": "phone", "value": PHONE}]}),
            409, "identifier_erased")  # fmt: skip
    (record,) = (await api.get("/v1/audience/erasures")).json()["erasures"]
    assert record["state"] == "erasing"
    monkeypatch.setattr(store, "delete_person_rows", real)
    done = (await api.post(f"/v1/audience/profiles/{pid}/erase")).json()
    assert done["state"] == "done" and done["started"] == record["started"]
    problem(await api.get(f"/v1/audience/profiles/{pid}"), 404, "profile_not_found")
    assert not [
        x
        for x in _lines(await api.get(f"/v1/conversations/{conv}/export"))
        if x["sender"] == "ann" and x["body"]
    ]


async def test_two_apps_nothing_crosses(api: httpx.AsyncClient, node: RunningNode) -> None:
    pid, _ = await _ann(api, node)
    second = await node.node.services.apps.create_app("second")
    headers = {"authorization": f"Bearer {second.api_key}"}
    async with httpx.AsyncClient(base_url=node.http, headers=headers, timeout=10) as two:
        theirs = (
            await two.post("/v1/audience/identify", json={"identifiers": [{"kind": "phone", "value": PHONE}]})
        ).json()
        problem(await two.post(f"/v1/audience/profiles/{pid}/erase"), 404, "profile_not_found")
        problem(await two.get(f"/v1/audience/profiles/{pid}/export"), 404, "profile_not_found")
        assert (await api.post(f"/v1/audience/profiles/{pid}/erase")).json()["state"] == "done"
        assert (await two.get(f"/v1/audience/profiles/{theirs['pid']}")).status_code == 200
        again = await two.post(
            "/v1/audience/identify", json={"identifiers": [{"kind": "phone", "value": PHONE}]}
        )
        assert again.status_code == 200 and again.json()["pid"] == theirs["pid"], (
            "the other app's tombstones are its own"
        )
        assert (await two.get("/v1/audience/erasures")).json()["erasures"] == []


async def test_openapi_documents_the_compliance_routes(api: httpx.AsyncClient) -> None:
    doc = (await api.get("/openapi.json")).json()
    for path, method in (("/v1/audience/profiles/{pid}/export", "get"), ("/v1/audience/profiles/{pid}/erase", "post"),
                         ("/v1/audience/erasures", "get"), ("/v1/audience/erasures/release", "post")):  # fmt: skip
        assert method in doc["paths"][path], path
    assert {"ErasureOut", "ErasurePage", "ExportLine"} <= set(doc["components"]["schemas"])
    assert "actor" in doc["paths"]["/v1/audit"]["get"]["summary"]
