"""The black-box bot benchmark's reading of a reply: what the customer saw, and which entry it quoted."""

from __future__ import annotations

from loadtests.bench_bot import classify

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
