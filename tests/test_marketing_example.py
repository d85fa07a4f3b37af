"""docs/MARKETING.md's worked example runs exactly as written against a running server."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.harness import running_node

ROOT = Path(__file__).resolve().parent.parent


async def test_the_marketing_example_runs_as_written(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "MARKETING.md").read_text()
    example = (ROOT / "examples" / "marketing.py").read_text()
    code = example.split('"""', 2)[2].strip()
    assert code in doc, "docs/MARKETING.md shows examples/marketing.py verbatim"
    async with running_node(tmp_path) as node:
        env = {**os.environ, "PARLEY_URL": node.http, "PARLEY_API_KEY": node.api_key}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "examples" / "marketing.py"),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    assert out.decode().splitlines() == [
        "ann got: Hi Ann, 20% off winter boots today",
        "buttons: ['Shop now', 'Stop these']",
        "shop opens: https://shop.example/boots",
        "brand: You will not receive these messages any more. 您已退订，我们不会再发送此类消息。",
        "campaign: {'sent': 1}",
        "next send: no_consent",
    ]
