"""The HTTP admin API against a real node: happy paths, problems, OpenAPI."""

from __future__ import annotations

import httpx
import jwt
import pytest

from parley.proto import frames
from tests.harness import RunningNode
from tests.wsclient import RawClient


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["detail"]


async def test_users_tokens_and_a_token_that_works(node: RunningNode, api: httpx.AsyncClient) -> None:
    created = await api.post("/v1/users", json={"user": "alice", "name": "Alice", "role": "agent"})
    assert created.status_code == 201 and created.json()["role"] == "agent"
    assert (await api.get("/v1/users/alice")).json()["name"] == "Alice"
    issued = await api.post("/v1/tokens", json={"user": "alice", "ttl": 120})
    assert issued.status_code == 201
    claims = jwt.decode(issued.json()["token"], options={"verify_signature": False})
    assert (claims["sub"], claims["iss"], claims["role"]) == ("alice", node.app.app, "agent")
    client = await RawClient.connect(node.url, issued.json()["token"])
    assert client.welcome.user == "alice"
    await client.close()


async def test_conversations_members_messages_and_export(node: RunningNode, api: httpx.AsyncClient) -> None:
    bob = await RawClient.connect(node.url, await node.token("bob"))
    made = await api.post(
        "/v1/conversations", json={"kind": "group", "members": ["alice", "bob"], "name": "team"}
    )
    assert made.status_code == 201
    conv = made.json()["conv"]
    assert {m["user"]: m["role"] for m in made.json()["members"]} == {"alice": "owner", "bob": "member"}
    added = await api.post(f"/v1/conversations/{conv}/members", json={"users": ["carol"]})
    assert added.json() == {"added": ["carol"]}
    posted = await api.post(
        f"/v1/conversations/{conv}/messages",
        json={"body": {"text": "maintenance at 9"}, "sender": "system", "cmid": "notice-1"},
    )
    assert posted.status_code == 201
    again = await api.post(
        f"/v1/conversations/{conv}/messages",
        json={"body": {"text": "maintenance at 9"}, "sender": "system", "cmid": "notice-1"},
    )
    assert again.status_code == 200 and again.json()["seq"] == posted.json()["seq"], "idempotent on cmid"
    pushed = await bob.expect(frames.Msg, timeout=5)
    while pushed.m.sender != "system" or pushed.m.kind != "text":
        pushed = await bob.expect(frames.Msg, timeout=5)
    assert pushed.m.body == {"text": "maintenance at 9"}
    page = (await api.get(f"/v1/conversations/{conv}/messages", params={"limit": 2})).json()
    assert [m["seq"] for m in page["messages"]] == [2, 3] and page["more"]
    export = await api.get(f"/v1/conversations/{conv}/export")
    assert export.headers["content-type"].startswith("application/x-ndjson")
    assert [int(line.split('"seq":')[1].split(",")[0]) for line in export.text.splitlines()] == [1, 2, 3]
    assert (await api.delete(f"/v1/conversations/{conv}/members/carol")).status_code == 204
    assert_problem(await api.delete(f"/v1/conversations/{conv}/members/carol"), 404, "not_found")
    listing = (await api.get("/v1/users/bob/conversations")).json()["conversations"]
    assert listing[0]["conv"] == conv and listing[0]["unread"] == 4
    await bob.close()


async def test_message_a_user_goes_to_the_direct_conversation(
    node: RunningNode, api: httpx.AsyncClient
) -> None:
    dana = await RawClient.connect(node.url, await node.token("dana"))
    sent = await api.post(
        "/v1/users/dana/messages", json={"body": {"text": "your order shipped"}, "sender": "shopbot"}
    )
    assert sent.status_code == 201
    joined = await dana.expect(frames.ConvEvent, timeout=5)
    assert joined.conv.kind == "direct" and joined.conv.conv == sent.json()["conv"]
    got = await dana.expect(frames.Msg, timeout=5)
    assert got.m.body == {"text": "your order shipped"} and got.m.sender == "shopbot"
    await dana.close()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", "/v1/users", {"name": "no id"}, 422, "invalid_request"),
        ("post", "/v1/users", {"user": "x", "role": "emperor"}, 422, "invalid_request"),
        ("post", "/v1/users", {"user": "x", "unknown": 1}, 422, "invalid_request"),
        ("post", "/v1/tokens", {"user": "x", "ttl": -5}, 422, "invalid_request"),
        ("post", "/v1/conversations", {"kind": "direct", "members": ["a", "b", "c"]}, 422, "invalid_request"),
        ("post", "/v1/conversations", {"kind": "circle", "members": ["a"]}, 422, "invalid_request"),
        ("post", "/v1/conversations/c_missing/messages", {"body": {"text": "x"}}, 404, "not_found"),
        ("get", "/v1/conversations/c_missing", None, 404, "not_found"),
        ("get", "/v1/users/nobody", None, 404, "not_found"),
    ],
)
async def test_invalid_requests_are_problems(
    api: httpx.AsyncClient, method: str, path: str, body: object, status: int, code: str
) -> None:
    response = await api.request(method.upper(), path, json=body)
    assert_problem(response, status, code)


async def test_malformed_json_and_bad_keys(node: RunningNode, api: httpx.AsyncClient) -> None:
    assert_problem(
        await api.post("/v1/users", content=b"{not json", headers={"content-type": "application/json"}),
        422,
        "invalid_request",
    )
    async with httpx.AsyncClient(base_url=node.http) as anonymous:
        assert_problem(await anonymous.get("/v1/users/alice"), 401, "not_authenticated")
        assert_problem(
            await anonymous.get("/v1/users/alice", headers={"authorization": "Bearer nope"}),
            401,
            "token_invalid",
        )
        assert_problem(await anonymous.post("/v1/apps", json={"name": "x"}), 403, "forbidden")


async def test_history_out_of_range_is_a_problem(api: httpx.AsyncClient) -> None:
    conv = (await api.post("/v1/conversations", json={"kind": "group", "members": ["a"]})).json()["conv"]
    assert_problem(
        await api.get(f"/v1/conversations/{conv}/messages", params={"after": 99}), 416, "out_of_range"
    )
    assert_problem(
        await api.get(f"/v1/conversations/{conv}/messages", params={"limit": "many"}), 422, "invalid_request"
    )


async def test_create_app_with_the_server_admin_key(node: RunningNode) -> None:
    async with httpx.AsyncClient(base_url=node.http, headers={"authorization": "Bearer root-key"}) as root:
        made = await root.post("/v1/apps", json={"name": "second"})
    assert made.status_code == 201
    key = made.json()["api_key"]
    async with httpx.AsyncClient(base_url=node.http, headers={"authorization": f"Bearer {key}"}) as api2:
        assert (await api2.post("/v1/users", json={"user": "zed"})).status_code == 201
    assert await node.node.store.get_user(node.app.app, "zed") is None, "apps are isolated"


async def test_api_keys_are_stored_hashed(node: RunningNode) -> None:
    assert await node.node.store.app_for_key(node.api_key) is None
    assert await node.node.services.apps.app_for_key(node.api_key) is not None


async def test_openapi_schema_is_served(node: RunningNode) -> None:
    async with httpx.AsyncClient(base_url=node.http) as client:
        doc = (await client.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    assert "/v1/conversations/{conv}/messages" in doc["paths"]
    assert {"CreateUser", "Message", "Problem"} <= set(doc["components"]["schemas"])
