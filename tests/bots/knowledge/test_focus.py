"""The asking part of a long message (parley.bots.knowledge.focus) and its use in retrieval."""

from __future__ import annotations

from dataclasses import replace

import pytest

from parley.bots.knowledge import Document, KnowledgeIndex, chunk_documents
from parley.bots.knowledge.focus import asking_part, without_disclaimer


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("I was charged twice last week. Can I get a refund?", "Can I get a refund?"),
        ("Long story. So how do I cancel. Thanks!", "So how do I cancel."),
        ("上个月出差忘了交话费。现在交了，多久能恢复？谢谢！", "现在交了，多久能恢复？"),
        ("婆婆说怀孕不能看牙。拍牙片对宝宝有影响吗", "拍牙片对宝宝有影响吗"),
    ],
)
def test_the_asking_sentences_are_found(text: str, part: str) -> None:
    assert asking_part(text) == part


@pytest.mark.parametrize(
    "text",
    [
        "how do I cancel my plan?",  # one sentence
        "Is it open? When does it close?",  # every sentence asks
        "My order is late. I am annoyed.",  # nothing asks
        "",
    ],
)
def test_no_separate_asking_part(text: str) -> None:
    assert asking_part(text) is None


@pytest.mark.parametrize(
    ("text", "part"),
    [
        (
            "Not a complaint, just wondering - can I pause my plan for a month?",
            "can I pause my plan for a month?",
        ),
        ("no need for a human, how late is the shop open on sunday", "how late is the shop open on sunday"),
        ("I'm not complaining or anything, but do you deliver on Sundays?", "do you deliver on Sundays?"),
        ("不是投诉哈，就想问问周末几点关门", "周末几点关门"),
        ("唔使轉真人，我只係想問下點樣改地址", "點樣改地址"),
        ("不用转人工，我就想知道押金多久退", "押金多久退"),
        ("唔使帮我转真人，我只系想问汇去印尼要几耐到？", "汇去印尼要几耐到？"),
        ("不用帮我转人工，就想问下运费多少", "运费多少"),
    ],
)
def test_a_disclaimer_is_not_the_question(text: str, part: str) -> None:
    """Session 19: "not a complaint" and 不用转人工 name other entries' words; the rest asks."""
    assert asking_part(text) == part


@pytest.mark.parametrize("text", ["not a complaint", "不是投诉", "is this not a complaint form?"])
def test_a_disclaimer_alone_or_inside_a_question_is_not_cut(text: str) -> None:
    assert asking_part(text) is None


def _faq_index(minilm, use, *entries: tuple[str, str, str]) -> KnowledgeIndex:
    """An index over FAQ entries given as (id, question, answer)."""
    index = KnowledgeIndex([minilm, use])
    index.replace(chunk_documents([Document(id=i, title=q, text=a, kind="faq") for i, q, a in entries]))
    return index


def test_the_question_of_a_rambling_message_decides_with_its_story(minilm, use) -> None:
    index = _faq_index(
        minilm,
        use,
        (
            "kids",
            "Do you treat children?",
            "Yes: we see children from age one, with family appointments after school.",
        ),
        (
            "bring",
            "What should I bring to my first visit?",
            "Bring a photo ID and your insurance card; arrive ten minutes early.",
        ),
    )
    text = (
        "Our children are four and seven and have never seen a dentist, so we want family "
        "appointments for the kids after school. What do I bring?"
    )
    whole = index.search(text, config=replace(index.config, focus=False))
    focused = index.search(text)
    assert whole.best is not None and focused.best is not None
    assert focused.best.chunk.doc_id == "bring"
    assert whole.best.chunk.doc_id == "kids"  # the story alone decided before


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        ("Not a complaint, but how long does a refund take?", "how long does a refund take?"),
        ("不是投诉哈，就想问下退款几天到账", "退款几天到账"),
        ("how long does a refund take?", "how long does a refund take?"),
        ("not a complaint", "not a complaint"),
    ],
)
def test_without_disclaimer_keeps_the_rest_or_the_whole(text: str, rest: str) -> None:
    assert without_disclaimer(text) == rest


def test_a_disclaimer_is_left_out_of_the_search(minilm, use) -> None:
    """Session 20: the disclaimer's words were averaged into the search and pulled "Not a
    complaint, but …" towards the complaints entry and below the answer threshold."""
    index = _faq_index(
        minilm,
        use,
        (
            "complain",
            "How do I make a complaint?",
            "Send your complaint through the app under Help > Complaints; we reply within 3 days.",
        ),
        (
            "refund",
            "How long does a refund take?",
            "Refunds reach your card within 5 to 7 working days after we approve them.",
        ),
    )
    text = "Not a complaint, but how long till my money is back?"
    alone = index.search("how long till my money is back?")
    result = index.search(text)
    assert result.best is not None and result.best.chunk.doc_id == "refund"
    assert result.confidence == pytest.approx(alone.confidence)
