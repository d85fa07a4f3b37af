"""The test harness survives a port taken between ``free_port()`` and the server's bind."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import tests.harness as harness
from tests.harness import running_node
from tests.servers import free_port, redis_binary, start_listening


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _redis(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def test_a_server_whose_port_was_taken_starts_on_another(taken_port: int) -> None:
    proc, port = start_listening(_redis, taken_port, "redis-server", timeout=10)
    try:
        assert port != taken_port and proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_fixed_port_is_not_replaced(taken_port: int) -> None:
    with pytest.raises(RuntimeError, match="exited"):
        start_listening(_redis, taken_port, "redis-server", timeout=10, fixed=True)


async def test_running_node_moves_off_a_taken_port(
    tmp_path: Path, taken_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    picks = iter([taken_port])
    monkeypatch.setattr(harness, "free_port", lambda: next(picks, None) or free_port())
    async with running_node(tmp_path) as node:
        assert node.settings.port != taken_port
