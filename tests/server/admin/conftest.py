from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.harness import RunningNode, running_node


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[RunningNode]:
    async with running_node(tmp_path, admin_key="root-key") as running:
        yield running


@pytest.fixture
async def api(node: RunningNode) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client authenticated with the node's app API key."""
    headers = {"authorization": f"Bearer {node.api_key}"}
    async with httpx.AsyncClient(base_url=node.http, headers=headers, timeout=10) as client:
        yield client
