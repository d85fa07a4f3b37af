"""Chinese homophone typos repaired towards the knowledge base's words (parley.bots.knowledge.homophones)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.bots.knowledge import Document, KnowledgeIndex, chunk_documents
from parley.bots.knowledge.homophones import HomophoneRepair
from parley.bots.knowledge.langs import simplified
from parley.bots.knowledge.spelling import QuerySpeller

KB_TEXTS = [
    "如何开具发票？在App「我的-发票」申请电子发票，三个工作日内发到邮箱。",
    "钱包充值最低50元，余额不足时无法开始新的订单。",
    "维修完成后享有90天保修，保修期内同一问题免费再修。",
    "会议室需提前一天在App预订，每小时80元。",
    "老师会在课前一天发提醒；这个方法对大部分孩子都有效。",
    "插座在每个车位旁边。",
]


@pytest.fixture(scope="module")
def repair() -> HomophoneRepair:
    return HomophoneRepair.from_texts(KB_TEXTS)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("住宿的发漂怎么开", "住宿的发票怎么开"),
        ("冲值最低多少", "充值最低多少"),
        ("修好了有保休吗，保休多久", "修好了有保修吗，保修多久"),
        # a sub-word of a longer word of the knowledge base (会议 from 会议室)
        ("会义室怎么订", "会议室怎么订"),
        # Traditional is repaired in Simplified (the index reads Simplified)
        ("住宿的發漂怎麼開", "住宿的发票怎么开"),
    ],
)
def test_homophone_typos_are_repaired_towards_the_knowledge_base(
    repair: HomophoneRepair, typed: str, meant: str
) -> None:
    assert repair.correct(typed) == meant


@pytest.mark.parametrize(
    "text",
    [
        "发票怎么开",  # nothing misspelt
        "孩子上课老是掉线",  # 老是 ("always") is missing from jieba's dictionary; 是 is no typo of 师
        "你们有笑气吗",  # 有笑 sounds like 有效, but 笑气 is a word
        "插咗枪之后点做",  # Cantonese 咗, not 座
        "自己在App上改可以吗",  # 己在 is the end of 自己 and a word of its own
        "how do i get an invoice",  # no Chinese
    ],
)
def test_words_particles_and_other_scripts_stay(repair: HomophoneRepair, text: str) -> None:
    assert repair.correct(text) == text


def test_an_empty_knowledge_base_repairs_nothing() -> None:
    assert HomophoneRepair.from_texts([]).correct("冲值最低多少") == "冲值最低多少"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("发漂票冲充值保休修会义议室老是师的a ?，"), max_size=20))
def test_a_repair_only_ever_changes_chinese_characters_in_place(text: str) -> None:
    out = HomophoneRepair.from_texts(KB_TEXTS).correct(text)
    folded = simplified(text)
    assert out == text or len(out) == len(folded)
    assert all(a == b for a, b in zip(out, folded, strict=False) if not "\u4e00" <= a <= "\u9fff")


def test_the_speller_repairs_english_and_chinese_in_one_pass() -> None:
    speller = QuerySpeller.from_texts([*KB_TEXTS, "How do I cancel my membership?"])
    assert speller.correct("cancle membership, 发漂怎么开") == "cancel membership, 发票怎么开"


def test_a_homophone_typo_finds_its_entry_only_with_repair(minilm, use) -> None:
    docs = [
        Document(id="invoice", title="怎么开发票？", text=KB_TEXTS[0], kind="faq"),
        Document(id="topup", title="钱包怎么充值？", text=KB_TEXTS[1], kind="faq"),
        Document(id="warranty", title="维修有保修吗？", text=KB_TEXTS[2], kind="faq"),
        Document(id="rooms", title="会议室怎么预订？", text=KB_TEXTS[3], kind="faq"),
    ]
    index = KnowledgeIndex([minilm, use])
    index.replace(chunk_documents(docs))
    typed = "上个月的发漂在哪里开"
    fixed, raw = index.search(typed), index.search(typed, config=replace(index.config, spelling=False))
    assert fixed.query == typed  # the customer's words are kept in the result
    assert fixed.best is not None and fixed.best.chunk.doc_id == "invoice"
    assert raw.best is not None and fixed.confidence > raw.confidence


def test_a_word_of_the_knowledge_base_outside_the_dictionary_is_a_target_when_used_twice() -> None:
    """Session 21 (swim holdout): 试课 is no dictionary word, so 实课 stayed."""
    kb = ["可以先试课吗？", "每位新学员可以上一节试课，试课费用可抵学费。"]
    assert HomophoneRepair.from_texts(kb).correct("可以先上一节实课吗") == "可以先上一节试课吗"
    # used once, it may itself be a slip: no target
    assert (
        HomophoneRepair.from_texts(["可以先试课吗？"]).correct("可以先上一节实课吗") == "可以先上一节实课吗"
    )
