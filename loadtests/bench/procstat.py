"""CPU time and RSS of other processes, read from /proc (Linux; no psutil needed)."""

from __future__ import annotations

import os
import time

__all__ = ["CpuMeter", "core_busy", "cpu_seconds", "rss_bytes"]

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by ``pid`` (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def core_busy() -> dict[str, float]:
    """Busy seconds so far of each core (``core0``, ``core1``…), whoever used them."""
    busy = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *values = line.split()
                ticks = [int(v) for v in values[:8]]
                busy["core" + name[3:]] = (sum(ticks) - ticks[3] - ticks[4]) / _TICK
    return busy


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class CpuMeter:
    """CPU use over a window, in % of one core: of the named processes, of this process
    (``generator``) and of each core by anyone (``core0``…) — on a shared machine the
    difference between a core's use and our processes on it is other people's load."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = dict(pids)
        self._start: dict[str, float] = {}
        self._t0 = 0.0

    def _snap(self) -> dict[str, float]:
        snap = {"generator": time.process_time(), **core_busy()}
        for name, pid in self.pids.items():
            try:
                snap[name] = cpu_seconds(pid)
            except OSError:
                snap[name] = 0.0
        return snap

    def start(self) -> None:
        self._t0 = time.perf_counter()
        self._start = self._snap()

    def stop(self) -> dict[str, float]:
        elapsed = time.perf_counter() - self._t0
        end = self._snap()
        return {name: round(100 * (end[name] - self._start[name]) / elapsed, 1) for name in end}
