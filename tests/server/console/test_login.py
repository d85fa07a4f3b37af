"""Console login, sessions, CSRF, roles, rate limit and audit over plain HTTP against a real node."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.harness import RunningNode, running_node
from tests.server.console.conftest import PASSWORD, login


async def test_login_sets_an_httponly_samesite_strict_cookie_and_me_answers(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    assert (await browser.get("/console/api/me")).status_code == 401
    r = await browser.post(
        "/console/api/login", json={"app": node.app.app, "username": "ann", "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
    assert PASSWORD not in r.text
    me = (await browser.get("/console/api/me")).json()
    assert (me["username"], me["roles"], me["csrf"]) == ("ann", ["agent"], r.json()["csrf"])


async def test_a_wrong_password_unknown_user_or_app_is_the_same_401(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    for app, user, password in [
        (node.app.app, "ann", "wrong password"),
        (node.app.app, "nobody", PASSWORD),
        ("app_none", "ann", PASSWORD),
    ]:
        r = await browser.post(
            "/console/api/login", json={"app": app, "username": user, "password": password}
        )
        assert r.status_code == 401, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == "wrong app, user name or password"
    assert "set-cookie" not in r.headers
    missing = await browser.post("/console/api/login", json={"app": node.app.app, "username": "ann"})
    assert (missing.status_code, missing.json()["field"]) == (422, "password")


async def test_state_changing_requests_need_the_csrf_token_of_the_session(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    csrf = await login(browser, node.app.app, "ann")
    assert (await browser.post("/console/api/ws-token")).status_code == 403, "no token"
    wrong = await browser.post("/console/api/ws-token", headers={"x-csrf-token": "x" + csrf})
    assert wrong.status_code == 403 and "CSRF" in wrong.json()["detail"]
    foreign = await browser.post(
        "/console/api/ws-token", headers={"x-csrf-token": csrf, "origin": "https://evil.example"}
    )
    assert foreign.status_code == 403, "right token, foreign Origin"
    ok = await browser.post("/console/api/ws-token", headers={"x-csrf-token": csrf})
    assert ok.status_code == 200, ok.text
    claims = await node.node.services.tokens.verify(ok.json()["token"])
    assert (claims.app, claims.user, claims.role) == (node.app.app, "ann", "agent")
    assert claims.exp - claims.iat <= node.settings.console_ws_token_ttl


async def test_login_must_be_json_from_the_consoles_own_origin(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    body = {"app": node.app.app, "username": "ann", "password": PASSWORD}
    form = await browser.post("/console/api/login", data=body)
    assert form.status_code == 422, "a cross-site form cannot send JSON"
    foreign = await browser.post("/console/api/login", json=body, headers={"origin": "https://evil.example"})
    assert foreign.status_code == 403
    own = await browser.post("/console/api/login", json=body, headers={"origin": node.http})
    assert own.status_code == 200


async def test_each_role_gets_403_on_the_others_api_and_pages(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    csrf = await login(browser, node.app.app, "mia")  # a marketer: neither agent nor admin
    h = {"x-csrf-token": csrf}
    for method, path in [
        ("POST", "/console/api/ws-token"),
        ("GET", "/console/api/agents"),
        ("GET", "/console/api/customers/cus/tickets"),
        ("GET", "/console/api/users"),
        ("PUT", "/console/api/canned"),
    ]:
        r = await browser.request(method, path, headers=h, json={"replies": []})
        assert r.status_code == 403, (path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    for page in ("/console/inbox", "/console/admin"):
        r = await browser.get(page)
        assert r.status_code == 403 and "text/html" in r.headers["content-type"], page
    agent = httpx.AsyncClient(base_url=node.http, timeout=20)
    async with agent:
        await login(agent, node.app.app, "ann")
        assert (await agent.get("/console/inbox")).status_code == 200
        assert (await agent.get("/console/admin")).status_code == 403
        assert (await agent.get("/console/api/users")).status_code == 403


async def test_pages_send_a_logged_out_browser_to_login_and_serve_their_assets(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    r = await browser.get("/console/inbox")
    assert (r.status_code, r.headers["location"]) == (303, "/console/login?next=/console/inbox")
    page = await browser.get("/console/login")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    script = await browser.get("/console/static/login.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    await login(browser, node.app.app, "ada")
    home = await browser.get("/console")
    assert (home.status_code, home.headers["location"]) == (303, "/console/admin")


async def test_logout_ends_this_session_and_logout_everywhere_every_session(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    csrf = await login(browser, node.app.app, "ann")
    assert (await browser.post("/console/api/logout")).status_code == 403, "CSRF checked on logout too"
    out = await browser.post("/console/api/logout", headers={"x-csrf-token": csrf})
    assert out.status_code == 204
    assert (await browser.get("/console/api/me")).status_code == 401
    phone = httpx.AsyncClient(base_url=node.http, timeout=20)
    async with phone:
        await login(phone, node.app.app, "ann")
        csrf = await login(browser, node.app.app, "ann")
        r = await browser.post("/console/api/logout-everywhere", headers={"x-csrf-token": csrf})
        assert r.json() == {"sessions": 2}
        assert (await phone.get("/console/api/me")).status_code == 401, "the other device is logged out too"
    assert (await browser.get("/console/api/me")).status_code == 401


async def test_logins_are_rate_limited_per_account_even_with_the_right_password(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    body = {"app": node.app.app, "username": "ann", "password": "guess"}
    codes = [(await browser.post("/console/api/login", json=body)).status_code for _ in range(6)]
    assert codes == [401] * 6
    body["password"] = PASSWORD
    limited = await browser.post("/console/api/login", json=body)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["code"] == "rate_limited"


async def test_a_session_expires_after_its_ttl(tmp_path: Path) -> None:
    (tmp_path / "short").mkdir()
    async with running_node(tmp_path / "short", console_session_ttl=1) as short:
        await short.node.services.console.add_user(short.app.app, "ann", PASSWORD, ["agent"])
        async with httpx.AsyncClient(base_url=short.http, timeout=20) as client:
            await login(client, short.app.app, "ann")
            assert (await client.get("/console/api/me")).status_code == 200
            await asyncio.sleep(2.5)  # a 1 s session, with a margin of seconds
            assert (await client.get("/console/api/me")).status_code == 401


async def test_every_console_action_is_audited(node: RunningNode, browser: httpx.AsyncClient) -> None:
    await browser.post(
        "/console/api/login", json={"app": node.app.app, "username": "ann", "password": "nope"}
    )
    csrf = await login(browser, node.app.app, "ann")
    await browser.post("/console/api/ws-token", headers={"x-csrf-token": csrf})
    await browser.post("/console/api/logout", headers={"x-csrf-token": csrf})
    async with httpx.AsyncClient(
        base_url=node.http, headers={"authorization": f"Bearer {node.api_key}"}
    ) as api:
        records = (await api.get("/v1/audit", params={"limit": 100})).json()["records"]
    seen = [(r["actor"], r["action"]) for r in records if r["actor"] == "console:ann"]
    assert seen == [
        ("console:ann", "console.login_failed"),
        ("console:ann", "console.login"),
        ("console:ann", "console.ws_token"),
        ("console:ann", "console.logout"),
    ]
    added = [r["target"] for r in records if r["action"] == "console.user_add"]
    assert added == ["ada", "ann", "mia"]


async def test_admins_add_users_with_field_errors_and_set_canned_replies(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    h = {"x-csrf-token": await login(browser, node.app.app, "ada")}
    short = await browser.post(
        "/console/api/users", headers=h, json={"username": "bo", "password": "short", "roles": ["agent"]}
    )
    assert (short.status_code, short.json()["field"]) == (422, "password")
    bad_role = await browser.post(
        "/console/api/users", headers=h, json={"username": "bo", "password": PASSWORD, "roles": ["root"]}
    )
    assert bad_role.json()["field"] == "roles"
    made = await browser.post(
        "/console/api/users", headers=h, json={"username": "bo", "password": PASSWORD, "roles": ["agent"]}
    )
    assert made.status_code == 201
    chat_user = await node.node.services.apps.get_user(node.app.app, "bo")
    assert chat_user.role == "agent", "a console agent is the chat user the support flow routes to"
    replies = {"replies": [{"title": "Hi", "text": "Hello, how can I help?"}]}
    assert (await browser.put("/console/api/canned", headers=h, json=replies)).status_code == 200
    empty = await browser.put(
        "/console/api/canned", headers=h, json={"replies": [{"title": "", "text": "x"}]}
    )
    assert empty.status_code == 422
    async with httpx.AsyncClient(base_url=node.http, timeout=20) as agent:
        await login(agent, node.app.app, "bo")
        assert (await agent.get("/console/api/canned")).json() == replies["replies"]


async def test_the_origin_check_accepts_a_proxy_that_drops_the_port_and_nothing_else(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    body = {"app": node.app.app, "username": "ann", "password": PASSWORD}
    for origin, host, status in [
        ("http://chat.example:8700", "chat.example", 200),  # nginx's $host has no port
        ("https://chat.example", "chat.example", 200),
        ("http://evil.example:8700", "chat.example", 403),
        ("http://chat.example.evil:8700", "chat.example:8700", 403),
        ("null", "chat.example", 403),
    ]:
        r = await browser.post("/console/api/login", json=body, headers={"origin": origin, "host": host})
        assert r.status_code == status, (origin, host, r.text)


async def test_every_console_api_route_checks_the_session_csrf_and_its_roles(
    node: RunningNode, browser: httpx.AsyncClient
) -> None:
    """Walks the app's own route table, so a route added later without a role check fails here."""
    from starlette.routing import Route

    routes = [
        r
        for r in node.server.config.app.routes  # type: ignore[attr-defined]
        if isinstance(r, Route) and r.path.startswith("/console/api/") and r.path != "/console/api/login"
    ]
    assert len(routes) > 15
    open_to_all = {"/console/api/logout", "/console/api/logout-everywhere", "/console/api/me"}
    for r in routes:
        roles = getattr(r.endpoint, "roles", None)
        assert roles is not None, f"{r.path} is not a console_endpoint"
        assert bool(roles) == (r.path not in open_to_all), f"{r.path} has no role check"
    path_of = lambda r: r.path.format(  # noqa: E731
        user="cus", key="k", name="n", id="i", source="s", username="ann", cid="c"
    )
    for r in routes:
        for method in r.methods or ():
            if method != "HEAD":
                assert (await browser.request(method, path_of(r))).status_code == 401, (method, r.path)
    csrf = await login(browser, node.app.app, "mia")  # a marketer: refused every route not theirs
    for r in routes:
        if r.path in open_to_all:
            continue
        theirs = "marketer" in r.endpoint.roles  # type: ignore[attr-defined]
        for method in r.methods or ():
            if method == "HEAD":
                continue
            if not theirs:
                refused = await browser.request(method, path_of(r), headers={"x-csrf-token": csrf}, json={})
                assert refused.status_code == 403, (method, r.path, refused.text)
            if method != "GET":
                no_token = await browser.request(method, path_of(r), json={})
                assert no_token.status_code == 403, (method, r.path)
