"""Written Cantonese folded to Mandarin words for retrieval (parley.bots.knowledge.cantonese)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.bots.knowledge import Document, KnowledgeIndex, chunk_documents
from parley.bots.knowledge.cantonese import mandarin
from parley.bots.knowledge.spelling import QuerySpeller


@pytest.mark.parametrize(
    ("cantonese", "meant"),
    [
        ("点解我张卡用唔到？", "为什么我张卡用不到？"),
        ("寄去九龙要几多钱", "寄去九龙要多少钱"),
        ("你哋听日开唔开门", "你们明天开不开门"),
        ("我订咗嘅嘢几时到", "我订了的东西什么时候到"),
        ("有冇得分期俾钱", "有没有得分期给钱"),
        ("第一次用，下一步点做？", "第一次用，下一步怎么做？"),
        ("仲可唔可以改时间", "还可不可以改时间"),
        ("朋友帮我攞得唔得", "朋友帮我拿行不行"),
        ("唔系话包运费咩", "不是话包运费吗"),
        ("汇去印尼要几耐到", "汇去印尼要多久到"),
        ("我只系想睇下", "我只是想看下"),
        ("有人话系你哋职员，系咪真㗎", "有人说是你们职员，是不是真的"),
        ("俾屋企人嘅", "给家人的"),
        ("可唔可以补返差价俾我", "可不可以补回差价给我"),
        ("咁贵嘅", "这么贵的"),
    ],
)
def test_cantonese_words_become_mandarin(cantonese: str, meant: str) -> None:
    assert mandarin(cantonese) == meant


@pytest.mark.parametrize(
    "text",
    [
        "三点到可以吗",  # 点 is the hour
        "这边可以停车吗",  # 边 is a side
        "劳动仲裁怎么申请",  # 仲 of 仲裁
        "食物可以带上船吗",  # 食 of 食物
        "系统显示订单失败",  # 系 of 系统
        "返现什么时候到账",  # 返 of 返现
        "只系统计了一次吗",  # no Cantonese character: 只系 is left alone
        "how much is delivery",
    ],
)
def test_mandarin_and_other_text_stay(text: str) -> None:
    assert mandarin(text) == text


@given(st.text(alphabet=st.sampled_from("我你的是在有没三点系统食物这边仲裁吗？ab "), max_size=30))
def test_text_without_a_cantonese_character_is_never_changed(text: str) -> None:
    assert mandarin(text) == text


@pytest.mark.parametrize(
    "text", ["几点去比较好", "明天下午3点去机场", "我们三点办手续", "早点去排队", "有点搞不懂", "甜点订购"]
)
def test_a_time_or_a_word_ending_in_dian_is_not_how(text: str) -> None:
    """Session 22: 3点去 / 几点去 ask a time, 早点 / 有点 / 甜点 are words — Mandarin, left as written
    (the fold once made 几点去 "几怎么去")."""
    assert mandarin(text) == text
    assert mandarin("要点安排？") == "要怎么安排？"


def test_estate_words_fold() -> None:
    """Session 22 (estate holdout): a key, a typhoon signal, a whole month."""
    assert mandarin("想留条后备锁匙喺管理处") == "想留条后备钥匙在管理处"
    assert mandarin("挂咗八号波") == "挂了八号风球"
    assert mandarin("去旅行成个月，唔喺香港") == "去旅行整个月，不在香港"


def test_the_speller_folds_cantonese_before_the_homophones() -> None:
    speller = QuerySpeller.from_texts(["充电完成后请在15分钟内开走车辆，否则收取占位费。"])
    assert speller.correct("充完电冇即刻揸走架车，会罚几多钱") == "充完电没有即刻开走架车，会罚多少钱"


def test_a_cantonese_question_finds_its_entry(minilm, use) -> None:
    docs = [
        Document(
            id="idle",
            title="占位费怎么收？",
            text="充电完成后15分钟内未开走车辆，每分钟收取1元占位费。",
            kind="faq",
        ),
        Document(id="price", title="充电价格是多少？", text="快充每度电2.5元，慢充每度电1.8元。", kind="faq"),
        Document(
            id="card", title="怎么办充电卡？", text="在App「我的-充电卡」申请，工本费20元。", kind="faq"
        ),
    ]
    index = KnowledgeIndex([minilm, use])
    index.replace(chunk_documents(docs))
    typed = "叉完电冇即刻揸走部车，会罚几多钱㗎"
    folded, raw = index.search(typed), index.search(typed, config=replace(index.config, spelling=False))
    assert folded.query == typed  # the customer's words are kept in the result
    assert folded.best is not None and folded.best.chunk.doc_id == "idle"
    assert raw.best is not None and folded.confidence > raw.confidence
