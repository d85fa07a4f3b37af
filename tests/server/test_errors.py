"""The server's exception tree and its one mapper to error codes, on the wire and over HTTP."""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from parley.proto import frames
from parley.proto.errors import ErrorCode
from parley.server import errors, ports
from parley.server.admin.guard import BodyTooLarge, RateLimited
from parley.server.errors import (
    BrokerUnavailable,
    ServerError,
    ServiceError,
    StoreUnavailable,
    Unavailable,
    refusal,
)
from tests.harness import RunningNode, running_node
from tests.wsclient import RawClient

SERVER = Path(__file__).resolve().parents[2] / "server"


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[RunningNode]:
    async with running_node(tmp_path) as running:
        yield running


def test_the_tree_is_drawn_and_matches_the_classes() -> None:
    doc = errors.__doc__ or ""
    for cls in (ServerError, ServiceError, Unavailable, StoreUnavailable, BrokerUnavailable):
        assert cls.__name__ in doc, f"{cls.__name__} is not drawn in server/errors.py"
    assert issubclass(ServiceError, ServerError) and issubclass(Unavailable, ServerError)
    assert issubclass(StoreUnavailable, Unavailable) and issubclass(BrokerUnavailable, Unavailable)
    assert issubclass(BodyTooLarge, ServiceError) and issubclass(RateLimited, ServiceError)
    # The ports name the same classes (adapters raise them; the mapper catches them).
    assert ports.StoreUnavailable is StoreUnavailable and ports.BrokerUnavailable is BrokerUnavailable


@pytest.mark.parametrize(
    ("exc", "code", "status"),
    [
        (ServiceError(ErrorCode.FORBIDDEN, "no"), ErrorCode.FORBIDDEN, 403),
        (ServiceError(ErrorCode.NOT_FOUND, "gone"), ErrorCode.NOT_FOUND, 404),
        (RateLimited(3), ErrorCode.RATE_LIMITED, 429),
        (StoreUnavailable("down"), ErrorCode.UNAVAILABLE, 503),
        (BrokerUnavailable("down"), ErrorCode.UNAVAILABLE, 503),
        (RuntimeError("disk on fire"), ErrorCode.INTERNAL, 500),
    ],
)
def test_one_mapper_gives_code_message_and_status(exc: Exception, code: ErrorCode, status: int) -> None:
    refused = refusal(exc)
    assert (refused.code, refused.status) == (code, status)
    assert refused.message and "disk on fire" not in refused.message, "internals never leak"
    if isinstance(exc, ServiceError):
        assert refused.message == exc.message


def test_every_error_code_has_an_http_status() -> None:
    for code in ErrorCode:
        assert 400 <= errors.http_status(code) <= 599


@pytest.mark.parametrize(
    "path", ["gateway/router.py", "gateway/session.py", "admin/routes.py", "admin/guard.py"]
)
def test_the_edges_map_errors_only_through_the_mapper(path: str) -> None:
    """No edge catches StoreUnavailable/BrokerUnavailable itself: the mapper decides their code."""
    tree = ast.parse((SERVER / path).read_text())
    caught = {
        ast.unparse(handler.type)
        for handler in ast.walk(tree)
        if isinstance(handler, ast.ExceptHandler) and handler.type is not None
    }
    assert not {c for c in caught if "Unavailable" in c}, f"{path} maps an error itself: {caught}"


async def test_a_broker_failure_is_unavailable_on_the_wire_and_the_connection_serves_on(
    node: RunningNode,
) -> None:
    alice = await RawClient.connect(node.url, await node.token("alice"))
    made = await alice.request(frames.ConvCreate, kind="group", members=["bob"])
    assert isinstance(made, frames.ConvResult), made  # bob shares a conversation: watchable
    presence = node.node.services.presence
    real = presence.current

    async def failing(*args: object) -> object:
        presence.current = real  # type: ignore[method-assign]  # fail once
        raise BrokerUnavailable("redis: connection refused")

    presence.current = failing  # type: ignore[method-assign]
    await alice.send(frames.PresenceSub(id=5, users=["bob"]))
    error = await alice.expect(frames.Error)
    assert (error.code, error.id, error.action) == ("unavailable", 5, "retry")
    assert "redis" not in error.message
    ok = await alice.request(frames.PresenceSub, users=["bob"])
    assert isinstance(ok, (frames.Ok, frames.Presence))
    await alice.close()


async def test_a_broker_failure_is_a_503_problem_on_the_admin_api(node: RunningNode) -> None:
    apps = node.node.services.apps
    real = apps.get_user

    async def failing(*args: object) -> object:
        apps.get_user = real  # type: ignore[method-assign]  # fail once
        raise BrokerUnavailable("redis: connection refused")

    apps.get_user = failing  # type: ignore[method-assign]
    headers = {"authorization": f"Bearer {node.api_key}"}
    async with httpx.AsyncClient(base_url=node.http, headers=headers, timeout=10) as api:
        await api.post("/v1/users", json={"user": "alice"})
        failed = await api.get("/v1/users/alice")
        assert failed.status_code == 503, failed.text
        assert failed.headers["content-type"].startswith("application/problem+json")
        assert failed.json()["code"] == "unavailable" and "redis" not in failed.json()["detail"]
        assert (await api.get("/v1/users/alice")).status_code == 200
