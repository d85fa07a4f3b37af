from __future__ import annotations

import pytest

from parley.bots.knowledge.langs import (
    detect_lang,
    in_script_of,
    reply_lang,
    simplified,
    traditional,
    writes_traditional,
)


@pytest.mark.parametrize(
    ("traditional", "folded"),
    [
        ("唔該轉人工", "唔该转人工"),
        ("氣死我了", "气死我了"),
        ("乾淨", "干净"),
        ("頭髮", "头发"),
        ("發票", "发票"),
    ],
)
def test_traditional_is_folded_to_simplified(traditional: str, folded: str) -> None:
    assert simplified(traditional) == folded


@pytest.mark.parametrize(
    "text",
    [
        "转人工",
        "how do I cancel",
        "",
        "人間と話したい",
        "상담원 연결",
        "你们打坏了我的花瓶",
        "保洁员打坏东西怎么办",
    ],
)
def test_simplified_latin_japanese_and_korean_text_is_unchanged(text: str) -> None:
    assert simplified(text) == text


def test_folding_keeps_the_language() -> None:
    for text in ("請問幾點關門", "refund 幾時到帳"):
        assert detect_lang(simplified(text)) == detect_lang(text)


def test_a_traditional_writer_is_recognised_and_answered_in_traditional() -> None:
    assert writes_traditional("唔該轉人工") and writes_traditional("refund 幾時到帳")
    for text in ("转人工", "你们打坏了我的花瓶", "how do I cancel", "人間と話したい"):
        assert not writes_traditional(text), text
    assert traditional("正在为您转接人工客服") == "正在為您轉接人工客服"
    assert traditional("Refund in 3 days") == "Refund in 3 days"


def test_a_reply_follows_the_script_of_the_customers_message() -> None:
    assert in_script_of("唔該轉人工", "正在为您转接人工客服") == "正在為您轉接人工客服"
    assert in_script_of("转人工", "正在為您轉接人工客服") == "正在为您转接人工客服"
    assert in_script_of("how do I cancel", "Refund in 3 days") == "Refund in 3 days"


@pytest.mark.parametrize(
    ("text", "lang"),
    [("退款多久到账", "zh"), ("Apple Pay 和 Visa 都可以绑定吗", "zh"), ("refund time?", "en"), ("OK", "en")],
)
def test_the_reply_language_is_chinese_when_any_chinese_carries_weight(text: str, lang: str) -> None:
    """A Chinese entry full of Latin names is detected "mixed"; it is still answered in Chinese."""
    assert reply_lang(text) == lang
