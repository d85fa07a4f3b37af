"""A real node per test, on SQLite and on the MongoDB wire server (``backend`` parametrises it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import RunningNode, running_node


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
async def node(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[RunningNode]:
    """A node whose campaign sender does not loop (tests run it), on each store."""
    extra: dict[str, Any] = {}
    if request.param == "mongo":
        extra = {
            "mongo_url": request.getfixturevalue("mongo_url"),
            "mongo_database": request.getfixturevalue("mongo_db"),
        }
    async with running_node(tmp_path, campaign_interval=0, **extra) as running:
        yield running
