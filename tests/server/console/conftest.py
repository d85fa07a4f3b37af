"""A real node and console users for the console's HTTP tests (no browser)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.harness import RunningNode, running_node

PASSWORD = "correct horse battery"


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[RunningNode]:
    async with running_node(tmp_path, console_login_rate=6) as running:
        console = running.node.services.console
        await console.add_user(running.app.app, "ada", PASSWORD, ["admin"], name="Ada")
        await console.add_user(running.app.app, "ann", PASSWORD, ["agent"], name="Ann")
        await console.add_user(running.app.app, "mia", PASSWORD, ["marketer"], name="Mia")
        yield running


@pytest.fixture
async def browser(node: RunningNode) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that keeps cookies, like a browser tab (no redirects followed)."""
    async with httpx.AsyncClient(base_url=node.http, timeout=20) as client:
        yield client


async def login(client: httpx.AsyncClient, app: str, username: str, password: str = PASSWORD) -> str:
    """Log in; returns the session's CSRF token."""
    r = await client.post("/console/api/login", json={"app": app, "username": username, "password": password})
    assert r.status_code == 200, r.text
    csrf: str = r.json()["csrf"]
    return csrf
