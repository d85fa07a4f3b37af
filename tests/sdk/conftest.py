from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import RunningNode, running_node


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[RunningNode]:
    """A real gateway node (uvicorn on a free loopback port, SQLite, in-memory broker)."""
    async with running_node(tmp_path) as running:
        yield running
