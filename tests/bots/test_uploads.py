"""Knowledge files uploaded from the console: the server queues them, the bot ingests each as a new
version of its source (or settles it failed with the parser's reason) and answers from the latest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.bots.ingest import KnowledgeSync
from parley.bots.knowledge import KnowledgeIndex, MiniLMEmbedder, MultilingualUSEEmbedder
from parley.sdk import AdminClient
from tests.harness import RunningNode, running_node

pytestmark = pytest.mark.timeout(120)

FAQ = "# Shipping\n\n## Cost {{#ship.cost}}\nShipping is free on orders over ¥{amount}.\n"


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[RunningNode]:
    async with running_node(tmp_path) as running:
        yield running


async def test_the_bot_ingests_uploads_as_new_versions_and_settles_bad_files_failed(
    node: RunningNode, minilm: MiniLMEmbedder, use: MultilingualUSEEmbedder
) -> None:
    s, app = node.node.services, node.app.app
    first = await s.knowledge.upload(app, "shipping.md", FAQ.format(amount=299), "console:ada")
    bad = await s.knowledge.upload(app, "broken.jsonl", "{not json\n", "console:ada")
    async with AdminClient(node.http, node.api_key, timeout=60) as admin:
        index = KnowledgeIndex([minilm, use])
        sync = KnowledgeSync(admin, index, interval=0.05)
        await sync.load()
        assert await sync.check(), "it ingested the upload and reloaded"
        assert {c.source for c in index.chunks} == {"shipping.md"}
        assert "¥299" in " ".join(c.text for c in index.chunks)
        states = {u.uid: (u.state, u.version, u.error) for u in await s.knowledge.uploads(app, pending=False)}
        assert states[first.uid] == ("ingested", sync.version, "")
        assert states[bad.uid][0] == "failed" and "broken.jsonl" in states[bad.uid][2]

        again = await s.knowledge.upload(app, "shipping.md", FAQ.format(amount=399), "console:ada")
        assert await sync.check()
        text = " ".join(c.text for c in index.chunks)
        assert "¥399" in text and "¥299" not in text, "the bot answers from the latest version"
        history = await s.knowledge.history(app, "shipping.md")
        assert [h.version for h in history] == [sync.version, states[first.uid][1]]
        assert (await s.knowledge.uploads(app, pending=False))[0].uid == again.uid
        assert await admin.pending_uploads() == []
        assert not await sync.check(), "nothing pending, nothing changed"
