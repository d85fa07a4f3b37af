"""Processes a test run started and did not stop: found from /proc, named, then stopped.

Every test stops what it starts, also when it fails; this is the check that it
did. It looks at the descendants of the pytest process (children of children
too), so a process counts whatever started it (a fixture, a helper module, a
``subprocess`` call in a test) and needs no registry to be kept.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from loadtests.procs import live_descendants

__all__ = ["Leftover", "descendants", "stop_all"]


@dataclass(frozen=True)
class Leftover:
    """A live process under the test run: its pid and command line."""

    pid: int
    command: str

    def __str__(self) -> str:
        return f"pid {self.pid}: {self.command}"


def descendants(root: int | None = None) -> list[Leftover]:
    """Live (not zombie) processes descended from ``root`` (default: this process)."""
    found: list[Leftover] = []
    for pid in live_descendants(root):
        command = ""
        with contextlib.suppress(OSError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        found.append(Leftover(pid, command.strip() or "?"))
    return found


def stop_all(processes: list[Leftover], grace: float = 5.0) -> None:
    """SIGTERM each, then SIGKILL whatever is still there after ``grace`` seconds."""
    for proc in processes:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGCONT)  # a SIGSTOPped server cannot act on SIGTERM
            os.kill(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    alive = {p.pid for p in processes}
    while alive and time.monotonic() < deadline:
        alive = {p.pid for p in descendants() if p.pid in alive}
        time.sleep(0.1)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
