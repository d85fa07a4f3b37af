"""Named leases through the admin API: one holder at a time, renewals, release by the holder only,
stable codes for bad input, behind the API key, in the OpenAPI document and never audited."""

from __future__ import annotations

import time

import httpx

from tests.harness import RunningNode
from tests.server.admin.test_tagdefs_routes import problem


async def test_one_holder_at_a_time_renewed_released_and_read(api: httpx.AsyncClient) -> None:
    before = int(time.time() * 1000)
    first = await api.put("/v1/leases/support-bot", json={"holder": "host-a:12", "ttl_s": 30})
    assert first.status_code == 200, first.text
    got = first.json()
    assert (got["name"], got["holder"], got["held"]) == ("support-bot", "host-a:12", True)
    assert before + 30_000 <= got["until"] <= int(time.time() * 1000) + 30_000, (
        "until: the server's now + ttl"
    )

    other = (await api.put("/v1/leases/support-bot", json={"holder": "host-b:7"})).json()
    assert (other["holder"], other["held"], other["until"]) == ("host-a:12", False, got["until"]), (
        "refused while live: the current lease, unchanged"
    )
    renewed = (await api.put("/v1/leases/support-bot", json={"holder": "host-a:12"})).json()
    assert renewed["held"] and renewed["until"] >= before + 15_000, "the default ttl_s is 15"

    read = await api.get("/v1/leases/support-bot")
    assert read.json() == {**renewed, "held": False}, "a GET does not say who asks: held is false"
    problem(await api.get("/v1/leases/ghost"), 404, "lease_not_found")

    problem(await api.delete("/v1/leases/support-bot", params={"holder": "host-b:7"}), 409, "lease_not_held")
    assert (await api.get("/v1/leases/support-bot")).json()["holder"] == "host-a:12"
    assert (await api.delete("/v1/leases/support-bot", params={"holder": "host-a:12"})).status_code == 204
    problem(await api.delete("/v1/leases/support-bot", params={"holder": "host-a:12"}), 409, "lease_not_held")
    problem(await api.get("/v1/leases/support-bot"), 404, "lease_not_found")
    taken = (await api.put("/v1/leases/support-bot", json={"holder": "host-b:7"})).json()
    assert (taken["holder"], taken["held"]) == ("host-b:7", True), "free at once after a release"


async def test_bad_input_is_a_422_problem_with_a_stable_code(api: httpx.AsyncClient) -> None:
    for bad in ({"holder": ""}, {"holder": "a\nb"}, {"holder": "h" * 129}, {"holder": "p", "ttl_s": 0},
                {"holder": "p", "ttl_s": 301}):  # fmt: skip
        problem(await api.put("/v1/leases/bot", json=bad), 422, "lease_invalid")
    problem(await api.put("/v1/leases/has%20space", json={"holder": "p"}), 422, "lease_invalid")
    problem(await api.put(f"/v1/leases/{'x' * 65}", json={"holder": "p"}), 422, "lease_invalid")
    problem(await api.delete("/v1/leases/bot"), 422, "lease_invalid")  # no holder
    for wrong in ({}, {"holder": "p", "ttl": 5}, {"holder": "p", "ttl_s": 1.5}, {"holder": 7}):
        problem(await api.put("/v1/leases/bot", json=wrong), 422, "invalid_request")
    problem(await api.get("/v1/leases/bot"), 404, "lease_not_found")  # nothing was stored


async def test_leases_need_the_api_key_are_documented_and_not_audited(
    node: RunningNode, api: httpx.AsyncClient
) -> None:
    async with httpx.AsyncClient(base_url=node.http, timeout=10) as anonymous:
        problem(await anonymous.put("/v1/leases/bot", json={"holder": "p"}), 401, "not_authenticated")
    before = (await api.get("/v1/audit", params={"limit": 500})).json()["records"]
    for _ in range(3):
        assert (await api.put("/v1/leases/bot", json={"holder": "p"})).json()["held"]
    assert (await api.delete("/v1/leases/bot", params={"holder": "p"})).status_code == 204
    assert (await api.get("/v1/audit", params={"limit": 500})).json()["records"] == before, (
        "renewals every few seconds would bury the audit log"
    )
    doc = (await api.get("/openapi.json")).json()
    assert set(doc["paths"]["/v1/leases/{name}"]) == {"put", "get", "delete"}
    assert doc["components"]["schemas"]["LeaseAcquire"]["required"] == ["holder"]
    assert set(doc["components"]["schemas"]["LeaseOut"]["properties"]) == {"name", "holder", "until", "held"}
