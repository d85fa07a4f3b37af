"""Typo repair towards the knowledge base's words (parley.bots.knowledge.spelling)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from parley.bots.knowledge import Document, KnowledgeIndex, chunk_documents
from parley.bots.knowledge.spelling import QuerySpeller

KB_TEXTS = [
    "How do I cancel my membership? Cancel in the app under Membership, or at the front desk.",
    "Teeth whitening costs 1 200 yuan per session; the Kestrel plan includes one appointment.",
    "Can I get a fapiao? Yes, ask for a fapiao with your company's tax number.",
    "Reschedule an appointment up to 24 hours before it starts.",
]


@pytest.fixture(scope="module")
def speller() -> QuerySpeller:
    return QuerySpeller.from_texts(KB_TEXTS)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("how do i cancle my membrship", "how do i cancel my membership"),
        # towards the knowledge base, not the commoner English word ("death")
        ("how much is teath whitning", "how much is teeth whitening"),
        ("can i reschedual my apointment", "can i reschedule my appointment"),
        ("Cancle my MEMBRSHIP", "cancel my membership"),
    ],
)
def test_misspelt_words_are_repaired_towards_the_knowledge_base(
    speller: QuerySpeller, typed: str, meant: str
) -> None:
    assert speller.correct(typed).lower() == meant


@pytest.mark.parametrize(
    "text",
    [
        "can I pay with wechat",  # not English, not in the KB, nothing within one edit
        "do yall take the kestrel plan",  # short shorthand; a brand of the KB
        "need a fapiao for my company's lunch",  # a loan word the KB uses; a possessive
        "do you treat dogs",  # English words are never "corrected" into KB words ("does")
        "取消会员怎么操作",  # Chinese is left as typed
        "my membrship 取消不了",  # …and only the English word of code-mixed text is touched
    ],
)
def test_known_words_brands_loan_words_and_chinese_stay(speller: QuerySpeller, text: str) -> None:
    out = speller.correct(text)
    if "membrship" in text:
        assert out == "my membership 取消不了"
    else:
        assert out == text


def test_a_misspelt_question_finds_its_entry_only_with_repair(minilm, use) -> None:
    docs = [
        Document(id="cancel", title="How do I cancel my membership?", text=KB_TEXTS[0], kind="faq"),
        Document(id="whiten", title="How much is teeth whitening?", text=KB_TEXTS[1], kind="faq"),
        Document(id="fapiao", title="Can I get a fapiao?", text=KB_TEXTS[2], kind="faq"),
        Document(id="move", title="Can I reschedule?", text=KB_TEXTS[3], kind="faq"),
    ]
    index = KnowledgeIndex([minilm, use])
    index.replace(chunk_documents(docs))
    typed = "how much is teath whitning"
    fixed, raw = index.search(typed), index.search(typed, config=replace(index.config, spelling=False))
    assert fixed.query == typed  # the customer's words are kept in the result
    assert fixed.best is not None and fixed.best.chunk.doc_id == "whiten"
    assert raw.best is not None and fixed.confidence > raw.confidence
