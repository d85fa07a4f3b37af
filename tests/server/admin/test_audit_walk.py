"""The audit log covers every state-changing admin API route: a walk of the server's own route
table (a route added later without the auditing wrapper fails here), each route called, and each
successful change found in ``GET /v1/audit`` with its actor; the log's filters over HTTP."""

from __future__ import annotations

import re
from typing import Any

import httpx
from starlette.routing import Route

from parley.server.admin.routes import CHANGING
from parley.server.services.moderation import key_id
from tests.harness import RunningNode


def _changing_routes(node: RunningNode) -> list[tuple[Route, str]]:
    routes = node.server.config.app.routes  # type: ignore[attr-defined]
    return [
        (r, m)
        for r in routes
        if isinstance(r, Route) and r.path.startswith("/v1/")
        for m in sorted((r.methods or set()) & CHANGING)
    ]


async def _all_audit(api: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = ""
    while True:
        page = (await api.get("/v1/audit", params={"after": after, "limit": 500, **params})).json()
        out += page["records"]
        if not page["more"]:
            return out
        after = out[-1]["id"]


async def test_every_state_changing_route_writes_the_audit_log(
    api: httpx.AsyncClient, node: RunningNode
) -> None:
    walked = _changing_routes(node)
    assert len(walked) > 40
    for route, method in walked:
        assert getattr(route.endpoint, "audits", False), f"{method} {route.path} is not wrapped by with_app"
    me = "key:" + key_id(node.api_key)
    for name in ("u1", "u2"):
        assert (await api.post("/v1/users", json={"user": name})).status_code == 201
    conv = (await api.post("/v1/conversations", json={"kind": "group", "members": ["u1", "u2"]})).json()[
        "conv"
    ]
    pid = (
        await api.post("/v1/audience/identify", json={"identifiers": [{"kind": "user", "value": "u1"}]})
    ).json()["pid"]
    values = {"user": "u1", "conv": conv, "pid": pid}
    succeeded = 0
    for route, method in walked:
        path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "x"), route.path)
        before = len(await _all_audit(api))
        response = await api.request(method, path, json={})
        records = (await _all_audit(api))[before:]
        if response.status_code < 400 and route.path != "/v1/apps":
            succeeded += 1
            assert records, (
                f"{method} {route.path} changed something ({response.status_code}) and wrote no audit record"
            )
            assert all(r["actor"] == me for r in records), records
    assert succeeded >= 5, "the walk must reach some routes' success path"


async def test_specific_changes_are_audited_with_actor_action_target(
    api: httpx.AsyncClient, node: RunningNode
) -> None:
    await api.put("/v1/audience/schema", json={"attributes": {"plan": {"type": "string"}}})
    pid = (
        await api.post("/v1/audience/identify", json={"identifiers": [{"kind": "cookie", "value": "c1"}]})
    ).json()["pid"]
    assert (
        await api.patch(f"/v1/audience/profiles/{pid}", json={"attributes": {"plan": "gold"}})
    ).status_code == 200
    bad = await api.patch(f"/v1/audience/profiles/{pid}", json={"attributes": {"nope": 1}})
    assert bad.status_code == 422
    me = "key:" + key_id(node.api_key)
    mine = await _all_audit(api, actor=me, action="api.patch_profile")
    assert [(r["action"], r["target"]) for r in mine] == [
        ("api.patch_profile", f"/v1/audience/profiles/{pid}")
    ], "one record for the change, none for the refused one"
    assert [r["action"] for r in await _all_audit(api, action="api.put_schema")] == ["api.put_schema"]
    assert await _all_audit(api, actor="key:nobody") == []
    everything = await _all_audit(api)
    cut = everything[-1]["ts"]
    assert await _all_audit(api, since=cut + 1) == []
    assert len(await _all_audit(api, until=cut + 1)) == len(everything)
    bad_filter = await api.get("/v1/audit", params={"since": "soon"})
    assert bad_filter.status_code == 422 and bad_filter.json()["code"] == "invalid_request"
