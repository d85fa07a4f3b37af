"""The benchmark tooling: its arithmetic, and one tiny end-to-end run against real servers.

The run checks that the bench starts Parley (SQLite + Redis) and the bare websockets
baseline, drives every scenario and loses nothing; it asserts no speed (that is what
``docs/BENCHMARKS.md`` is for).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from loadtests.bench.__main__ import median_of, targets

ROOT = Path(__file__).resolve().parents[2]


def test_median_of_goes_through_nested_results_and_skips_gaps() -> None:
    rounds = [
        {"pairs": {"acked_per_s": 10, "p99_ms": 2.0}},
        {"pairs": {"acked_per_s": 30, "p99_ms": math.nan}},
        {"pairs": {"acked_per_s": 20, "p99_ms": 4.0}},
    ]
    assert median_of(rounds) == {"pairs": {"acked_per_s": 20, "p99_ms": 3.0}}
    assert median_of([None, "x"]) is None


def test_targets_compare_with_the_peer_of_the_same_run() -> None:
    medians = {
        "baseline": {
            "fanout": {"deliveries_per_s": 100, "rate_p99_ms": 10.0},
            "idle": {"connects_per_s": 1000},
        },
        "sqlite+redis": {
            "fanout": {"deliveries_per_s": 80, "rate_p99_ms": 12.0},
            "idle": {"connects_per_s": 700, "kib_per_conn": 9.5},
        },
    }
    lines = {line.split(" | ")[0].strip("| "): line for line in targets(medians).splitlines()}
    assert "met: 80 vs 100 (0.80×; target ≥ 0.70×)" in lines["fan-out deliveries/s ≥ 0.70 × bare websockets"]
    assert (
        "MISSED: 12.0 vs 10.0 (1.20×; target ≤ 1.00×)" in lines["fan-out p99 @ fixed rate ≤ bare websockets'"]
    )
    assert "MISSED: 700 vs 1 000 (0.70×; target ≥ 0.75×)" in lines["connects+auth/s ≥ 0.75 × bare websockets"]
    assert "| – |" in lines["1:1 persisted msgs/s ≥ 1 × websockets + Redis hop"], "no relay in this run"
    assert "met: 9.5 KiB" in lines["idle memory ≤ 20 KiB / connection (deflate off)"]


@pytest.mark.timeout(240)
def test_a_tiny_run_drives_every_scenario_and_loses_nothing(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    small = "--rounds 1 --peers baseline --store sqlite --broker redis --pairs 4 --window 2 --members 20"
    small += " --fanout-window 2 --samples 5 --rate 2 --rate-duration 1 --idle 50 --warm 5 --concurrency 10"
    small += " --warmup 0.3 --duration 1"
    command = [
        sys.executable,
        "-m",
        "loadtests.bench",
        "run",
        *small.split(),
        "--deflate",
        "",
        "--out",
        str(out),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=220)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "issue-3 targets" in done.stdout
    medians = json.loads(out.read_text())["medians"]
    for config in ("baseline", "sqlite+redis"):
        pairs, fanout, idle = (medians[config][s] for s in ("pairs", "fanout", "idle"))
        assert pairs["acked_per_s"] > 0 and pairs["unacked"] == pairs["undelivered"] == pairs["errors"] == 0
        assert fanout["deliveries_per_s"] > 0 and fanout["sat_missing"] == fanout["rate_missing"] == 0
        assert fanout["errors"] == 0
        assert idle["connections"] == 50 and idle["connects_per_s"] > 0 and idle["kib_per_conn"] is not None


def test_a_tiny_event_ingest_run_stores_through_both_paths(tmp_path: Path) -> None:
    out = tmp_path / "events.json"
    small = "--stores sqlite --rounds 1 --duration 0.5 --warmup 0.2 --batch 20 --posters 1 --users 10"
    small += " --clients 2 --window 2 --core 1 --server-core 0"
    command = [sys.executable, "-m", "loadtests.bench.events", *small.split(), "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    medians = json.loads(out.read_text())["medians"]["sqlite"]
    for scenario in ("batch", "sdk"):
        assert medians[scenario]["events_per_s"] > 0 and medians[scenario]["errors"] == 0
