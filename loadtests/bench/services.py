"""Start and stop what a benchmark round needs: redis-server, SecantusDB, a Parley node, or a peer.

Every server process is pinned with ``taskset`` to the server core; the load
generator gets the other core. Everything listens on free loopback ports and
lives in a temporary directory removed at the end. Ports, readiness and stopping are
:mod:`loadtests.procs`, shared with the tests: a server is ready when its own process
listens, and one that lost its port to another process is started again on a new one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.procs import free_port, redis_command, secantus_command, start_listening, stop

__all__ = ["PEERS", "Stack", "pinned", "start_redis", "start_stack"]

BIN = Path(sys.executable).parent
#: The repository root: ``python -m loadtests.bench.*`` must run from here.
ROOT = Path(__file__).resolve().parents[2]


def pinned(core: str | None, argv: list[str]) -> list[str]:
    return ["taskset", "-c", core, *argv] if core is not None else argv


@contextmanager
def process(
    argv: Callable[[int], list[str]],
    what: str,
    log: Path,
    timeout: float = 30.0,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """The server ``argv(port)`` started on a free port and listening: its process and port."""
    with open(log, "wb") as out:

        def spawn(port: int) -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                argv(port), stdout=out, stderr=subprocess.STDOUT, cwd=cwd or ROOT, env=env
            )

        proc, port = start_listening(spawn, free_port(), what, timeout=timeout)
    try:
        yield proc, port
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
    #: The app's admin API key (Parley only).
    api_key: str = ""


@contextmanager
def secantus(core: str | None, workdir: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """SecantusDB (in-memory, no config file picked up from the cwd) on a free port."""
    conf = workdir / "secantusd.toml"
    conf.write_text("")
    with process(
        lambda port: pinned(core, secantus_command(port, conf)), "secantusd-py", workdir / "secantus.log",
        cwd=str(workdir),
    ) as (proc, port):  # fmt: skip
        yield port, proc


def start_redis(stack: ExitStack, core: str | None, workdir: Path) -> tuple[int, int]:
    """A fresh redis-server pinned to ``core``: (port, pid)."""
    redis, rport = stack.enter_context(
        process(
            lambda port: pinned(core, redis_command(port, workdir)), "redis-server", workdir / "redis.log"
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
            proc, port = stack.enter_context(
                process(
                    lambda port: pinned(core, [sys.executable, *argv(port, redis_url)]),
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
        # permessage-deflate has no CLI flag: a wrapper forces uvicorn's option (see parley_deflate.py).
        parley = (
            [sys.executable, "-m", "loadtests.bench.parley_deflate"] if deflate else [str(BIN / "parley")]
        )
        # Rate limits off: one bench sender stands for many real users' traffic.
        serve = [
            *store_args,
            *serve_args,
            "--rate-frames",
            "0",
            "--rate-sends",
            "0",
            "--log-level",
            "warning",
        ]
        node, port = stack.enter_context(
            process(
                lambda port: pinned(core, [*parley, "serve", "--port", str(port), *serve]),
                "parley serve",
                workdir / "parley.log",
            )
        )
        pids["server"] = node.pid
        yield Stack(
            "parley", port, pids, app["PARLEY_APP"], app["PARLEY_APP_SECRET"], deflate=deflate,
            api_key=app.get("PARLEY_API_KEY", ""),
        )  # fmt: skip


def make_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="parley-bench-"))
