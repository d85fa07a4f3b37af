"""The asking part of a long message (parley.bots.knowledge.focus) and its use in retrieval."""

from __future__ import annotations

from dataclasses import replace

import pytest

from parley.bots.knowledge import Document, KnowledgeIndex, chunk_documents
from parley.bots.knowledge.focus import asking_part


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


def test_the_question_of_a_rambling_message_decides_with_its_story(minilm, use) -> None:
    docs = [
        Document(
            id="kids",
            title="Do you treat children?",
            text="Yes: we see children from age one, with family appointments after school.",
            kind="faq",
        ),
        Document(
            id="bring",
            title="What should I bring to my first visit?",
            text="Bring a photo ID and your insurance card; arrive ten minutes early.",
            kind="faq",
        ),
    ]
    index = KnowledgeIndex([minilm, use])
    index.replace(chunk_documents(docs))
    text = (
        "Our children are four and seven and have never seen a dentist, so we want family "
        "appointments for the kids after school. What do I bring?"
    )
    whole = index.search(text, config=replace(index.config, focus=False))
    focused = index.search(text)
    assert whole.best is not None and focused.best is not None
    assert focused.best.chunk.doc_id == "bring"
    assert whole.best.chunk.doc_id == "kids"  # the story alone decided before
