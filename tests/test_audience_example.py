"""docs/AUDIENCE.md's profiles and identity example runs exactly as written against a running server."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.harness import running_node

ROOT = Path(__file__).resolve().parent.parent


async def test_the_audience_example_runs_as_written(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "AUDIENCE.md").read_text()
    example = (ROOT / "examples" / "audience_profiles.py").read_text()
    code = example.split('"""', 2)[2].strip()
    assert code in doc, "docs/AUDIENCE.md shows examples/audience_profiles.py verbatim"
    async with running_node(tmp_path) as node:
        env = {**os.environ, "PARLEY_URL": node.http, "PARLEY_API_KEY": node.api_key}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "examples" / "audience_profiles.py"),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    lines = out.decode().splitlines()
    assert lines[2:] == ["Europe/Paris sdk", "denied granted", "attribute_unknown", "True True (('device', 'tablet-1'),)",
                         "True True"], lines  # fmt: skip
