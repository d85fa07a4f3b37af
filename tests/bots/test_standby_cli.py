"""Two ``python -m parley.bots`` processes for one app, black box: the README's command twice.

The server runs in the test's event loop, so the test never blocks it. The first says "answering", the second "standing by"; a customer gets one answer; on SIGTERM the
first gives the lease back and the second answers the next question. Every process is stopped,
also when the test fails.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from parley.sdk import MessageEvent
from tests.bots.test_runner import BOT, ask, connect
from tests.harness import RunningNode, running_node

pytestmark = pytest.mark.timeout(300)

FAQ = """id,question,answer
en.ship-cost,How much does shipping cost?,Shipping is free over ¥299; otherwise ¥15.
en.hours,When are you open?,We answer every day from 9:00 to 21:00.
"""


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[RunningNode]:
    async with running_node(tmp_path) as running:
        yield running


@contextmanager
def bot_process(node: RunningNode, log: Path, *extra: str) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m parley.bots`` against ``node``; terminated (then killed) on exit."""
    argv = [
        sys.executable, "-m", "parley.bots", "--url", node.url, "--admin", node.http,
        "--api-key", node.api_key, "--no-tags", "--signals", "use-multilingual-v3",
        "--lease-ttl", "3", *extra,
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _read(log: Path) -> str:
    return log.read_text(errors="replace")


async def wait_for(log: Path, proc: subprocess.Popen[bytes], needle: str, timeout: float = 150) -> str:
    """The log once it has ``needle`` (asynchronously: the server runs in this event loop)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        text = _read(log)
        if needle in text:
            return text
        assert proc.poll() is None, f"the bot exited ({proc.returncode}):\n{text}"
        await asyncio.sleep(0.1)
    raise AssertionError(f"{needle!r} not logged in {timeout} s:\n{_read(log)}")


async def test_the_second_process_stands_by_and_takes_over(node: RunningNode, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "faq_en.csv").write_text(FAQ, encoding="utf-8")
    with ExitStack() as stack:
        log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"
        a = stack.enter_context(bot_process(node, log_a, "--kb", str(kb)))
        assert "answering" in await wait_for(log_a, a, "ready: serving as")
        b = stack.enter_context(bot_process(node, log_b))
        assert "standing by" in await wait_for(log_b, b, "ready: serving as")

        async with connect(node, "cust") as customer:
            inbox = customer.events(MessageEvent)
            conv = (await customer.create_support()).conv
            first = await ask(customer, inbox, conv, "how much is shipping")
            assert "¥299" in (first.text or "")

            a.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(a.wait, 30) == 0
            await wait_for(log_b, b, "holds the lease", timeout=20)
            second = await ask(customer, inbox, conv, "when are you open?")
            assert "9:00" in (second.text or "")
            bot_texts = [
                m for m in (await customer.history(conv)).messages if m.sender == BOT and m.kind == "text"
            ]
            assert [m.seq for m in bot_texts] == [first.seq, second.seq], "one answer per question"
