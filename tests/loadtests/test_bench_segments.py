"""The segment benchmark end to end on a tiny population (its numbers are not asserted: speed
lives in docs/BENCHMARKS.md): every shape runs, and the paged walk visits exactly the members."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from loadtests import bench_segments


async def test_tiny_run_covers_every_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(store="sqlite", profiles=500, rounds=1, db=str(tmp_path / "b.db"), fresh=True)
    await bench_segments.main(args)
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    shapes = [r for r in rows if "shape" in r]
    assert [r["rule"] for r in shapes] == [text for _, text in bench_segments.SHAPES]
    assert all(0 < r["count"] < 500 for r in shapes)
    assert rows[-1]["walked"] == shapes[-1]["count"]
