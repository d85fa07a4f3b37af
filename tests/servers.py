"""Start real backing servers on free loopback ports for the test session.

The process helpers (free ports, readiness by the server's own listening socket, start and
stop) are :mod:`loadtests.procs`, shared with the benchmark; they are re-exported here.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loadtests.procs import (
    free_port,
    listening,
    redis_binary,
    redis_command,
    secantus_command,
    start_listening,
)
from loadtests.procs import stop as stop_process

__all__ = [
    "RedisServer",
    "free_port",
    "listening",
    "mongo_server",
    "redis_binary",
    "redis_server",
    "start_listening",
]


class RedisServer:
    """A disposable redis-server on a free port; can be stopped and restarted on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="parley-redis-")
        self.proc: subprocess.Popen[bytes] | None = None
        self._started = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart, on the same port) the server."""
        self.proc, self.port = start_listening(
            self._spawn, self.port, "redis-server", timeout=10, fixed=self._started
        )
        self._started = True

    def _spawn(self, port: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            redis_command(port, self.dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def stop(self) -> None:
        stop_process(self.proc, grace=5)
        self.proc = None


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def mongo_server() -> Iterator[str]:
    """Yield a MongoDB URL: ``$MONGO_URL`` if set, else a SecantusDB subprocess."""
    if os.environ.get("MONGO_URL"):
        yield os.environ["MONGO_URL"]
        return
    log = tempfile.NamedTemporaryFile(prefix="parley-secantus-", suffix=".log", delete=False)
    empty_config = Path(tempfile.mkdtemp()) / "secantusd.toml"
    empty_config.write_text("")

    def spawn(port: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            secantus_command(port, empty_config),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=empty_config.parent,
        )

    proc, port = start_listening(spawn, free_port(), "secantusd-py", timeout=30)
    try:
        yield f"mongodb://127.0.0.1:{port}/"
    finally:
        stop_process(proc)
