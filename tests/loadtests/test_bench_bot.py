"""The black-box bot benchmark's reading of a reply: what the customer saw, and which entry it quoted."""

from __future__ import annotations

import asyncio

from loadtests.bench_bot import ask_all, classify

ENTRIES = [
    ("en.fee", "The annual fee is ¥300, waived after 12 purchases a year."),
    ("zh.fee", "年费300元，一年内消费满12笔免次年年费。"),
    (
        "en.fee-long",
        "The annual fee is ¥300, waived after 12 purchases a year. Supplementary cards are free.",
    ),
    ("guide.cards", "Lost cards are blocked at once from the app: open Cards, tap the card, then Block."),
    ("guide.cards", "A replacement card is posted within five working days to the address on file."),
]
TEXT = dict(ENTRIES[:3])


def test_a_quoted_entry_is_the_longest_one_the_reply_contains() -> None:
    assert classify(TEXT["en.fee"], ENTRIES) == ("answer", "en.fee")
    assert classify(TEXT["en.fee-long"], ENTRIES) == ("answer", "en.fee-long")


def test_a_cross_language_notice_before_the_quote_still_names_the_entry() -> None:
    reply = "This answer is only available in Chinese: " + TEXT["zh.fee"]
    assert classify(reply, ENTRIES) == ("answer", "zh.fee")


def test_the_hand_over_notice_and_anything_else() -> None:
    assert classify("正在为您转接人工客服，客服会看到我们之前的对话，请稍候。", ENTRIES) == ("handoff", "")
    assert classify("Sorry, could you say that another way?", ENTRIES) == ("rephrase", "")


def test_an_answer_from_the_second_chunk_of_a_long_section_names_the_section() -> None:
    assert classify(ENTRIES[4][1], ENTRIES) == ("answer", "guide.cards")


async def test_ask_all_keeps_the_order_and_never_exceeds_the_concurrency() -> None:
    in_flight, most = 0, 0

    async def ask(i: int, text: str) -> tuple[str, float]:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01 * ((7 * i) % 5))  # finish out of order
        in_flight -= 1
        return text.upper(), float(i)

    texts = [f"q{i}" for i in range(20)]
    got = await ask_all(texts, ask, concurrency=4)
    assert got == [(t.upper(), float(i)) for i, t in enumerate(texts)]
    assert most == 4
    most = 0
    assert await ask_all(texts[:3], ask) == [("Q0", 0.0), ("Q1", 1.0), ("Q2", 2.0)]
    assert most == 1, "the default is one at a time"
