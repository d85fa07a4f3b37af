"""Processes a test run started and did not stop: found from /proc, named, then stopped.

Every test stops what it starts, also when it fails; this is the check that it
did. It looks at the descendants of the pytest process (children of children
too), so a process counts whatever started it (a fixture, a helper module, a
``subprocess`` call in a test) and needs no registry to be kept.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from loadtests.procs import live_descendants

__all__ = ["Leftover", "become_subreaper", "descendants", "reap", "stop_all"]

#: prctl(2) option: orphaned descendants are re-parented to this process, not to init.
_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make this process the subreaper of everything it starts (Linux); False if not possible.

    Without it, a process whose parent died (a wrapper such as ``faketime`` that forks, a
    shell that backgrounds a server) is re-parented to init and no longer looks like ours,
    which is how two chaos nodes outlived the test run unnoticed.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def reap() -> None:
    """Collect the exit status of children nobody waits for (orphans re-parented to us)."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


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
