"""Tag definitions through the admin API, and their one rule: a person's tag (source ``manual`` or
``agent``) must be defined once the app defines any tag; bots, models and rules are never refused."""

from __future__ import annotations

import time

import httpx

from parley.proto import frames
from tests.harness import RunningNode
from tests.server.gateway.test_support import as_role


def problem(r: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert (r.status_code, r.headers["content-type"].split(";")[0]) == (status, "application/problem+json"), (
        r.text
    )
    body: dict[str, object] = r.json()
    assert body["code"] == code, body
    return body


async def test_definitions_are_created_listed_changed_and_deleted_with_stable_codes_and_audited(
    node: RunningNode, api: httpx.AsyncClient
) -> None:
    vip = {"name": "vip", "description": "Top customer", "kind": "manual", "sources": ["manual", "agent"],
           "expiry_s": 3600}  # fmt: skip
    made = await api.post("/v1/tags/definitions", json=vip)
    assert made.status_code == 201 and made.json()["sources"] == ["manual", "agent"]
    problem(await api.post("/v1/tags/definitions", json=vip), 409, "tag_definition_exists")
    for bad in ({"kind": "magic"}, {"name": "has space"}, {"sources": ["Bad!"]}, {"expiry_s": -1}):
        problem(
            await api.post("/v1/tags/definitions", json={**vip, "name": "x", **bad}),
            422,
            "tag_definition_invalid",
        )
    assert [d["name"] for d in (await api.get("/v1/tags/definitions")).json()["definitions"]] == ["vip"]
    changed = await api.put("/v1/tags/definitions/vip", json={"description": "VIP", "kind": "rule"})
    assert (changed.json()["kind"], changed.json()["created"]) == ("rule", made.json()["created"])
    assert (await api.get("/v1/tags/definitions/vip")).json()["description"] == "VIP"
    problem(await api.put("/v1/tags/definitions/ghost", json={}), 404, "tag_definition_not_found")
    assert (await api.delete("/v1/tags/definitions/vip")).status_code == 204
    problem(await api.delete("/v1/tags/definitions/vip"), 404, "tag_definition_not_found")
    actions = [r["action"] for r in (await api.get("/v1/audit")).json()["records"]]
    assert [a for a in actions if a.startswith("tagdef.")] == [
        "tagdef.create",
        "tagdef.update",
        "tagdef.delete",
    ]
    paths = (await api.get("/openapi.json")).json()["paths"]
    assert {"post", "get"} <= set(paths["/v1/tags/definitions"])


async def test_a_persons_tag_must_be_defined_once_any_is_and_bots_are_never_refused(
    node: RunningNode, api: httpx.AsyncClient
) -> None:
    anything = await api.post("/v1/users/cus/tags", json={"add": [{"name": "whatever"}], "source": "agent"})
    assert anything.status_code == 200, "no definitions: every tag is accepted, as before"
    defn = {"name": "vip", "kind": "manual", "sources": ["agent"], "expiry_s": 3600}
    assert (await api.post("/v1/tags/definitions", json=defn)).status_code == 201
    await api.post("/v1/tags/definitions", json={"name": "churn_risk", "kind": "bot", "sources": ["model"]})

    refused = await api.post(
        "/v1/users/cus/tags", json={"add": [{"name": "vip"}, {"name": "nope"}], "source": "agent"}
    )
    problem(refused, 422, "tag_undefined")
    tags = {t["name"] for t in (await api.get("/v1/users/cus/profile")).json()["tags"]}
    assert tags == {"whatever"}, "nothing of the refused write is stored"
    problem(await api.post("/v1/users/cus/tags", json={"add": [{"name": "churn_risk"}], "source": "agent"}), 422,
            "tag_undefined")  # fmt: skip
    ok = await api.post("/v1/users/cus/tags", json={"add": [{"name": "vip"}], "source": "agent"})
    (vip,) = [t for t in ok.json()["tags"] if t["name"] == "vip"]
    assert 0 < vip["expires"] - int(time.time() * 1000) <= 3600 * 1000, "the definition's default expiry"
    by_model = await api.post("/v1/users/cus/tags", json={"add": [{"name": "new_guess"}], "source": "model"})
    assert by_model.status_code == 200, "a model's (or bot's, rule's) tag is never refused"

    ids = {"identifiers": [{"kind": "user", "value": "cus"}]}
    pid = (await api.post("/v1/audience/identify", json=ids)).json()["pid"]
    manual = await api.patch(f"/v1/audience/profiles/{pid}", json={"add_tags": [{"name": "nope"}]})
    problem(manual, 422, "tag_undefined")
    ruled = await api.patch(
        f"/v1/audience/profiles/{pid}", json={"add_tags": [{"name": "nope"}], "source": "rule"}
    )
    assert ruled.status_code == 200, ruled.text

    agent = await as_role(node, "ann", "agent")
    got = await agent.request(frames.ProfileTag, user="cus", add=[frames.TagInput(name="nope")])
    assert isinstance(got, frames.Error) and got.code == "tag_undefined"
    assert isinstance(
        await agent.request(frames.ProfileTag, user="cus", add=[frames.TagInput(name="vip")]), frames.Ok
    )
    bot = await as_role(node, "helper", "bot")
    said = await bot.request(
        frames.ProfileTag, user="cus", add=[frames.TagInput(name="bot_guess")], source="bot"
    )
    assert isinstance(said, frames.Ok), "bots keep setting tags nobody defined"
    await agent.close()
    await bot.close()
