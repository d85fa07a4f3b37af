"""Audience profiles and One ID through the admin API and AdminClient, on a real node over loopback:
schema, identify/merge/explain/unmerge, typed attributes, tags, consent, bad input as problems
with stable codes (nothing half-stored), the OpenAPI document, and two apps kept apart."""

from __future__ import annotations

import httpx

from parley.sdk import AdminClient
from parley.sdk.errors import AdminError
from tests.harness import RunningNode

SCHEMA = {
    "attributes": {"plan": {"type": "string", "indexed": True}, "ltv": {"type": "number"}},
    "consent_topics": ["marketing", "marketing:sms"],
    "identity": {"default_region": "US"},
}


def problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code, response.json()


async def test_profiles_and_one_id_over_http(api: httpx.AsyncClient) -> None:
    assert (await api.get("/v1/audience/schema")).json() == {"version": 0, "schema": {}}
    put = await api.put("/v1/audience/schema", json=SCHEMA)
    assert put.status_code == 200 and put.json()["version"] == 1
    problem(
        await api.put("/v1/audience/schema", json={"attributes": {"x": {"type": "money"}}}),
        422,
        "schema_invalid",
    )
    assert (await api.get("/v1/audience/schema")).json()["version"] == 1, "the refused schema stored nothing"

    anon = (
        await api.post("/v1/audience/identify", json={"identifiers": [{"kind": "cookie", "value": "ck1"}]})
    ).json()
    patched = await api.patch(f"/v1/audience/profiles/{anon['pid']}", json={
        "attributes": {"plan": "free", "ltv": 3}, "add_tags": [{"name": "browsing", "confidence": 0.4}],
        "source": "rule", "consent": [{"topic": "marketing", "state": "denied", "ref": "form-1"}]})  # fmt: skip
    assert patched.status_code == 200 and patched.json()["attributes"] == {"plan": "free", "ltv": 3.0}
    bad = await api.patch(
        f"/v1/audience/profiles/{anon['pid']}", json={"attributes": {"plan": "gold", "age": 3}}
    )
    problem(bad, 422, "attribute_unknown")
    problem(await api.patch(f"/v1/audience/profiles/{anon['pid']}", json={"attributes": {"ltv": "3"}}), 422,
            "attribute_type")  # fmt: skip
    problem(await api.patch(f"/v1/audience/profiles/{anon['pid']}", json={"consent": [{"topic": "sms", "state": "granted"}]}),
            422, "consent_invalid")  # fmt: skip
    assert (await api.get(f"/v1/audience/profiles/{anon['pid']}")).json()["attributes"]["plan"] == "free"
    problem(await api.get("/v1/audience/profiles/p_nobody"), 404, "profile_not_found")
    problem(await api.post("/v1/audience/identify", json={"identifiers": [{"kind": "phone", "value": "555"}]}),
            422, "identifier_invalid")  # fmt: skip

    both = {"identifiers": [{"kind": "phone", "value": "(415) 555-0100"}, {"kind": "cookie", "value": "ck1"}]}
    merged = (await api.post("/v1/audience/identify", json=both)).json()
    assert merged["pid"] == anon["pid"] and merged["merged"] == [], "a new phone joins the anonymous profile"
    by_phone = await api.get("/v1/audience/identifiers/phone/+14155550100")
    assert by_phone.status_code == 200 and by_phone.json()["pid"] == anon["pid"]
    assert (await api.get("/v1/audience/identifiers/phone/415-555-0100")).json()["pid"] == anon["pid"], (
        "normalised"
    )

    other = (
        await api.post("/v1/audience/identify", json={"identifiers": [{"kind": "device", "value": "d9"}]})
    ).json()
    joined = (await api.post("/v1/audience/identify", json={
        "identifiers": [{"kind": "phone", "value": "+14155550100"}, {"kind": "device", "value": "d9"}]})).json()  # fmt: skip
    assert joined["pid"] == anon["pid"] and len(joined["merged"]) == 1
    mid = joined["merged"][0]
    explained = (await api.get(f"/v1/audience/merges/{mid}")).json()
    assert explained["survivor"] == anon["pid"] and explained["merged"] == other["pid"]
    assert {"kind": "device", "value": "d9"} in explained["matched"]
    assert [
        m["mid"] for m in (await api.get(f"/v1/audience/profiles/{other['pid']}/merges")).json()["merges"]
    ] == [mid]
    history = (
        await api.get(f"/v1/audience/profiles/{anon['pid']}/tags/history", params={"name": "browsing"})
    ).json()
    assert [(h["action"], h["source"]) for h in history["history"]] == [("set", "rule")]
    ledger = (await api.get(f"/v1/audience/profiles/{anon['pid']}/consent")).json()["ledger"]
    assert [(e["topic"], e["state"], e["via"]["ref"]) for e in ledger] == [("marketing", "denied", "form-1")]
    undone = await api.post(f"/v1/audience/merges/{mid}/unmerge")
    assert undone.status_code == 200 and undone.json()["undone"] > 0
    assert (await api.get("/v1/audience/identifiers/device/d9")).json()["pid"] == other["pid"]
    problem(await api.post(f"/v1/audience/merges/{mid}/unmerge"), 404, "profile_not_found")


async def test_the_admin_client_and_two_apps(node: RunningNode) -> None:
    created = await node.node.services.apps.create_app("second")
    async with AdminClient(node.http, node.api_key) as one, AdminClient(node.http, created.api_key) as two:
        assert await one.set_audience_schema(SCHEMA) == 1
        who = await one.identify([("email", "Ann@Example.com"), ("user", "ann")])
        person = await one.update_audience_profile(
            who.pid, attributes={"plan": "gold"}, timezone="Asia/Tokyo", consent={"marketing": "granted"},
            add_tags=[{"name": "vip", "confidence": 0.9, "evidence": "m_1"}], source="agent", ref="call-7")  # fmt: skip
        assert person.attributes == {"plan": "gold"} and person.users == ("ann",)
        assert (person.timezone, person.timezone_source) == ("Asia/Tokyo", "sdk")
        assert person.tags[0].source == "agent" and person.consent["marketing"]["state"] == "granted"
        assert (await one.profile_by_identifier("email", "ann@example.com")).pid == who.pid
        try:
            await two.audience_profile(who.pid)
            raise AssertionError("another app's profile was visible")
        except AdminError as exc:
            assert exc.code == "profile_not_found"
        assert (await two.audience_schema()) == (0, {})
        theirs = await two.identify([("email", "ann@example.com")])
        assert theirs.created and theirs.pid != who.pid
        assert (await one.consent_ledger(who.pid))[0]["via"] == {"kind": "api", "ref": "call-7"}


async def test_openapi_documents_the_audience_routes(api: httpx.AsyncClient) -> None:
    doc = (await api.get("/openapi.json")).json()
    for path in ("/v1/audience/schema", "/v1/audience/identify", "/v1/audience/profiles/{pid}",
                 "/v1/audience/merges/{mid}/unmerge"):  # fmt: skip
        assert path in doc["paths"], path
    assert "ProfilePatch" in doc["components"]["schemas"]
