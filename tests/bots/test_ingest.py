"""The knowledge base through the store: ingest over the admin API, a bot loads it and follows re-ingests."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from parley.bots.__main__ import prepare_knowledge
from parley.bots.answer import Answerer
from parley.bots.ingest import KnowledgeSync, chunk_from_dict, chunk_to_dict, ingest_files
from parley.bots.ingest import main as ingest_main
from parley.bots.knowledge import (
    Calibration,
    HandoffDetector,
    KnowledgeFormatError,
    KnowledgeIndex,
    MiniLMEmbedder,
    MultilingualUSEEmbedder,
)
from parley.bots.knowledge.eval import KB_DIR
from parley.bots.knowledge.probes import NULL_PROBES
from parley.bots.llm import LLM, LLMConfig
from parley.bots.runner import SupportBot
from parley.sdk import AdminClient, Client, MessageEvent
from tests.bots.llm_stub import LLMStub, Reply
from tests.harness import RunningNode, running_node
from tests.sdk.helpers import first

pytestmark = pytest.mark.timeout(120)

BOT = "parley-bot"


class Counting:
    """An embedder that counts the texts it encodes (to prove a load does not re-embed)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name: str = inner.name
        self.dim: int = inner.dim
        self.multilingual: bool = inner.multilingual
        self.calibration: Calibration = inner.calibration
        self.texts = 0

    def encode(self, texts: list[str]) -> Any:
        self.texts += len(texts)
        return self.inner.encode(texts)


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[RunningNode]:
    async with running_node(tmp_path) as running:
        yield running


@asynccontextmanager
async def admin_of(node: RunningNode) -> AsyncIterator[AdminClient]:
    async with AdminClient(node.http, node.api_key, timeout=60) as admin:
        yield admin


@asynccontextmanager
async def connect(node: RunningNode, user: str, role: str = "user") -> AsyncIterator[Client]:
    await node.node.services.apps.upsert_user(node.app.app, user, role=role)
    async with Client(node.url, token=await node.token(user)) as client:
        yield client


def test_chunk_round_trip(kb_index: KnowledgeIndex) -> None:
    for chunk in kb_index.chunks[:10]:
        assert chunk_from_dict(chunk_to_dict(chunk)) == chunk


async def test_ingest_load_answer_and_follow_reingest(
    node: RunningNode, tmp_path: Path, minilm: MiniLMEmbedder, use: MultilingualUSEEmbedder
) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(KB_DIR, kb)
    async with admin_of(node) as admin:
        writer = KnowledgeIndex([minilm, use])
        results = await ingest_files(admin, writer, [kb])
        assert {r.source for r in results} == {p.name for p in KB_DIR.iterdir()}
        stored = await admin.knowledge()
        assert stored.version == results[-1].version == await admin.knowledge_version()
        assert len(stored.chunks) == sum(r.chunks for r in results)
        assert {row.source for row in stored.chunks} >= {"faq_en.csv", "尺码与会员.md"}

        # The bot's index loads chunks with their stored vectors: no chunk is embedded on load, only
        # the null probes, once, to calibrate the thresholds before the first customer asks.
        counting = [Counting(minilm), Counting(use)]
        index = KnowledgeIndex(counting)
        sync = KnowledgeSync(admin, index, interval=0.05)
        await sync.load()
        assert len(index.chunks) == len(stored.chunks)
        assert [c.texts for c in counting] == [len(NULL_PROBES)] * 2
        assert index.calibrated, "the first question must not pay for the calibration"

        poller = asyncio.create_task(sync.run())
        try:
            async with connect(node, BOT, "bot") as bot_client, connect(node, "cust") as customer:
                bot = SupportBot(bot_client, Answerer(index, None), detector=HandoffDetector())
                bot.start()
                inbox = customer.events(MessageEvent)
                conv = (await customer.create_support()).conv

                await customer.send(conv, "How much does shipping cost?")
                answer = (await first(inbox, lambda e: e.message.sender == BOT, 30)).message
                assert "¥299" in (answer.text or "")

                # Re-ingest a changed file: the running bot reloads and answers from the new text.
                faq = kb / "faq_en.csv"
                faq.write_text(
                    faq.read_text(encoding="utf-8").replace(
                        "free on orders over ¥299", "free on orders over ¥399"
                    ),
                    encoding="utf-8",
                )
                (result,) = await ingest_files(admin, writer, [faq])
                assert result.source == "faq_en.csv"
                await sync.wait_version(result.version, timeout=10)
                assert len(index.chunks) == len(stored.chunks), "the source was replaced, not appended"
                await customer.send(conv, "How much does shipping cost?")
                again = (
                    await first(inbox, lambda e: e.message.sender == BOT and e.message.seq > answer.seq, 30)
                ).message
                assert "¥399" in (again.text or "") and "¥299" not in (again.text or "")
                # Only the embeddings of the queries (and, once per index, the fixed null probes
                # that calibrate its thresholds) were computed, never the knowledge base again.
                assert max(c.texts for c in counting) <= 4 + len(NULL_PROBES)

                # Deleting a source: its chunks leave the running index.
                version = await admin.delete_knowledge("faq_en.csv")
                await sync.wait_version(version, timeout=10)
                assert not [c for c in index.chunks if c.doc_id.startswith("en.ship")]
                await bot.stop()
        finally:
            poller.cancel()


async def test_bad_file_ingests_nothing(
    node: RunningNode, tmp_path: Path, minilm: MiniLMEmbedder, use: MultilingualUSEEmbedder
) -> None:
    (tmp_path / "good.md").write_text("## Gift cards {#gift}\nGift cards never expire.\n", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes("退货政策".encode("gbk"))
    async with admin_of(node) as admin:
        with pytest.raises(KnowledgeFormatError, match="not UTF-8"):
            await ingest_files(admin, KnowledgeIndex([minilm, use]), [tmp_path])
        assert not (await admin.knowledge()).chunks


async def test_cli_ingest_and_delete(
    node: RunningNode, tmp_path: Path, minilm: MiniLMEmbedder, use: MultilingualUSEEmbedder
) -> None:
    (tmp_path / "gift.md").write_text("## Gift cards {#gift}\nGift cards never expire.\n", encoding="utf-8")
    base = ["--admin", node.http, "--api-key", node.api_key]
    index = KnowledgeIndex([minilm, use])
    # The CLI runs its own event loop: run it in a thread, as a separate process would.
    assert await asyncio.to_thread(ingest_main, [*base, str(tmp_path / "gift.md")], index=index) == 0
    async with admin_of(node) as admin:
        stored = await admin.knowledge()
        assert [row.source for row in stored.chunks] == ["gift.md"]
        assert {v.model for v in stored.vectors} == {minilm.name, use.name}
        assert await asyncio.to_thread(ingest_main, [*base, "--delete", "gift.md"], index=index) == 0
        assert not (await admin.knowledge()).chunks
    assert await asyncio.to_thread(ingest_main, [*base, str(tmp_path / "missing.md")], index=index) == 2


async def test_admin_profile_tags(node: RunningNode) -> None:
    await node.node.services.apps.upsert_user(node.app.app, "cust")
    async with admin_of(node) as admin:
        profile = await admin.tag("cust", [("interest:skincare", 0.8)], source="model", evidence="m1", ttl=60)
        tag = profile.tag("interest:skincare")
        assert tag is not None and tag.source == "model" and tag.evidence == "m1" and tag.expires > 0
        await admin.tag("cust", remove=["interest:skincare"])
        assert (await admin.profile("cust")).tag_names == []


async def test_cli_ingest_recurses_and_reports_taken_and_skipped(
    node: RunningNode,
    tmp_path: Path,
    minilm: MiniLMEmbedder,
    use: MultilingualUSEEmbedder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kb = tmp_path / "kb"
    (kb / "guides" / "deep").mkdir(parents=True)
    (kb / "faq.csv").write_text("id,question,answer\ngift,Do gift cards expire?,Never.\n", encoding="utf-8")
    (kb / "guides" / "returns.md").write_text("## Returns {#ret}\nWithin 30 days.\n", encoding="utf-8")
    (kb / "guides" / "deep" / "care.txt").write_text("Wash cold.\n", encoding="utf-8")
    (kb / "guides" / "logo.png").write_bytes(b"\x89PNG")
    base = ["--admin", node.http, "--api-key", node.api_key]
    index = KnowledgeIndex([minilm, use])
    assert await asyncio.to_thread(ingest_main, [*base, str(kb)], index=index) == 0
    out = capsys.readouterr().out
    assert "took faq.csv" in out and "took returns.md" in out and "took care.txt" in out
    assert "skipped" in out and "logo.png" in out
    async with admin_of(node) as admin:
        assert {row.source for row in (await admin.knowledge()).chunks} == {
            "faq.csv",
            "returns.md",
            "care.txt",
        }


async def test_empty_knowledge_base_is_seeded_only_with_demo(
    node: RunningNode, minilm: MiniLMEmbedder, use: MultilingualUSEEmbedder
) -> None:
    index = KnowledgeIndex([minilm, use])
    async with admin_of(node) as admin:
        await prepare_knowledge(admin, index, None, demo=False)
        assert not (await admin.knowledge()).chunks  # no silent example shop
        await prepare_knowledge(admin, index, None, demo=True)
        sources = {row.source for row in (await admin.knowledge()).chunks}
        assert sources == {p.name for p in KB_DIR.iterdir() if p.is_file()}


async def test_ingest_translates_each_chunk_with_the_llm_and_the_bot_quotes_it(
    node: RunningNode, tmp_path: Path, minilm: MiniLMEmbedder, use: MultilingualUSEEmbedder, stub: LLMStub
) -> None:
    """``ingest --translate``: each chunk goes to the LLM once, into the other language; the
    translation is stored with the chunk and embedded as view ``alt``; without an LLM at answer
    time, the bot quotes the translation (said to be one) to a customer of the other language.
    A chunk the model fails on is stored untranslated, and the run says how many."""
    faq = tmp_path / "faq_zh.jsonl"
    faq.write_text(
        '{"id": "zh.pets", "question": "可以带宠物吗？", "answer": "大巴团不能带宠物，导盲犬除外。"}\n'
        '{"id": "zh.invoice", "question": "可以开发票吗？", "answer": "行程结束后90天内可申请电子发票。"}\n',
        encoding="utf-8",
    )
    # Chunks are translated concurrently: answer by content, not by arrival order.
    stub.default = lambda req: (
        Reply(text="Can I bring my pet?\nPets cannot join coach tours, except guide dogs.")
        if "宠物" in req["messages"][-1]["content"]
        else Reply(status=400)
    )
    config = LLMConfig(base_url=stub.base_url, model="stub-model", max_retries=0)
    async with admin_of(node) as admin, LLM(config) as llm:
        writer = KnowledgeIndex([minilm, use])
        (result,) = await ingest_files(admin, writer, [faq], translator=llm)
        assert result.translated == 1 and result.chunks == 2
        assert len(stub.requests) == 2
        assert all("into English" in r["messages"][0]["content"] for r in stub.requests)
        assert sorted("宠物" in r["messages"][1]["content"] for r in stub.requests) == [False, True]
        stored = await admin.knowledge()
        by_id = {row.chunk["id"]: row.chunk for row in stored.chunks}
        assert by_id["zh.pets::0"]["translation"].startswith("Can I bring my pet?")
        assert by_id["zh.invoice::0"]["translation"] == ""
        assert {(v.chunk_id, v.view) for v in stored.vectors if v.view == "alt"} == {("zh.pets::0", "alt")}
        index = KnowledgeIndex([minilm, use])
        await KnowledgeSync(admin, index).load()
        answer = await Answerer(index).answer("can I take my dog on the coach tour?")
        assert answer.confident and answer.foreign
        assert "Pets cannot join coach tours" in answer.text and "translat" in answer.text.lower()
