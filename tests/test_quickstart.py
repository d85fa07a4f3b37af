"""The README's SDK quick start runs exactly as written against a running server."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.harness import running_node

ROOT = Path(__file__).resolve().parent.parent


async def test_readme_quickstart_runs_as_written(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / "examples" / "quickstart.py").read_text()
    code = example.split('"""', 2)[2].strip()
    assert code in readme, "the README shows examples/quickstart.py verbatim"
    async with running_node(tmp_path) as node:
        env = {**os.environ, "PARLEY_URL": node.http, "PARLEY_API_KEY": node.api_key}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "examples" / "quickstart.py"),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    assert out.decode().strip() == "bob got #1 from alice: Hello Bob!"
