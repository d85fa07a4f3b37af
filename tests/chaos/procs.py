"""Real processes for chaos tests: gateway nodes (``parley serve``) and SecantusDB.

Everything runs on loopback on free ports. Nodes are separate OS processes so
``kill -9`` is real; their logs go to files that a failing test prints.
"""

from __future__ import annotations

import contextlib
import glob
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from loadtests.procs import secantus_command, socket_inodes, start_listening
from loadtests.procs import stop as stop_process
from tests.servers import free_port

__all__ = ["GatewayProcess", "MongoProcess", "rss_kib", "tcp_peer_ports"]

_BIN = Path(sys.executable).parent


def libfaketime() -> str:
    """Path of Debian's ``libfaketime.so.1`` (package ``faketime``)."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1")) + sorted(
        glob.glob("/usr/lib/faketime/libfaketime.so.1")
    )
    if not found:
        raise RuntimeError("libfaketime not found: apt-get install faketime")
    return found[0]


class GatewayProcess:
    """One ``parley serve`` node in its own process (optionally under ``faketime``)."""

    def __init__(
        self,
        node_id: str,
        *,
        redis_url: str,
        mongo_url: str,
        mongo_database: str,
        log_dir: Path,
        faketime: str | None = None,
        port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.node_id = node_id
        self.port = port or free_port()
        #: A given port is kept; a picked one may be replaced if it was taken before the bind.
        self._port_fixed = port is not None
        self.redis_url = redis_url
        self.mongo_url = mongo_url
        self.mongo_database = mongo_database
        self.log_path = log_dir / f"{node_id}.log"
        self.faketime = faketime
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def command(self) -> list[str]:
        cmd = [
            str(_BIN / "parley"),
            "serve",
            "--port",
            str(self.port),
            "--redis-url",
            self.redis_url,
            "--mongo-url",
            self.mongo_url,
            "--mongo-database",
            self.mongo_database,
            "--node-id",
            self.node_id,
            "--log-level",
            "warning",
        ]
        return cmd

    def faketime_env(self) -> dict[str, str]:
        """libfaketime preloaded into the node itself (see :func:`libfaketime`).

        Not the ``faketime`` wrapper: it forks and waits, so stopping or ``kill -9``-ing the
        wrapper left the node running, orphaned (the leftover ``node1``/``node2`` of issue 9).
        """
        if not self.faketime:
            return {}
        return {"LD_PRELOAD": libfaketime(), "FAKETIME": self.faketime}

    def start(self, timeout: float = 30.0) -> None:
        log = self.log_path.open("ab")
        env = dict(os.environ)
        for key in [k for k in env if k.startswith("PARLEY_")]:
            del env[key]
        env.update(self.env)
        env.update(self.faketime_env())

        def spawn(port: int) -> subprocess.Popen[bytes]:
            self.port = port
            return subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=env)

        try:
            # A restart keeps the node's address (the LB knows it).
            self.proc, self.port = start_listening(
                spawn, self.port, f"node {self.node_id}", timeout=timeout, fixed=self._port_fixed
            )
        finally:
            log.close()
        self._port_fixed = True

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """SIGKILL: no drain, no bye, sockets reset by the kernel."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        stop_process(self.proc, grace=15)

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def metric(self, name: str) -> float:
        """Sum of a Prometheus metric's samples from the node's ``/metrics`` (0 if absent)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as response:
            text = response.read().decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name) and line[len(name) : len(name) + 1] in (" ", "{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


class MongoProcess:
    """SecantusDB (MongoDB wire protocol) as a subprocess we can SIGSTOP/SIGCONT."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        config = self.log_dir / "secantusd.toml"
        config.write_text("")
        log = (self.log_dir / "secantus.log").open("ab")

        def spawn(port: int) -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                secantus_command(port, config), stdout=log, stderr=subprocess.STDOUT, cwd=self.log_dir
            )

        try:
            self.proc, self.port = start_listening(spawn, self.port, "secantusd-py", timeout=30)
        finally:
            log.close()

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def stop(self) -> None:
        stop_process(self.proc)  # resumes a paused server first


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (``VmRSS`` of /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def tcp_peer_ports(pid: int, remote_port: int) -> set[int]:
    """Local ports of ``pid``'s TCP connections to 127.0.0.1:``remote_port`` (from /proc)."""
    inodes = socket_inodes(pid)
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                local, remote, inode = cols[1], cols[2], cols[9]
                if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == remote_port:
                    ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports
