"""Properties of the bot's rule languages on any text: hand-over, escalation, sentiment, trouble.

The unit tests pin phrasings; these pin what must hold whatever the customer writes: no rule
raises or stalls on any input, a request or a demand survives neutral context around it, neutral
context alone triggers nothing, and described trouble never makes a message strongly negative.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.bots.escalation import EscalationDetector
from parley.bots.knowledge.handoff import HandoffDetector
from parley.bots.sentiment import SentimentScorer
from parley.bots.tag_cues import problem_cue, want_cue
from parley.bots.trouble import trouble_cues

pytestmark = pytest.mark.timeout(120)  # a stalled (backtracking) pattern fails instead of hanging

HANDOFF, ESCALATION, SENTIMENT = HandoffDetector(), EscalationDetector(), SentimentScorer()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Anything a customer can type: Latin, Chinese, digits, emoji, punctuation of both scripts.
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF),
        st.sampled_from("，。！？、：；“”（）…～😀🙏\n\t"),
    ),
    max_size=400,
)
# Words that ask for nothing, complain about nothing and describe no trouble.
NEUTRAL = st.lists(
    st.sampled_from(
        [
            "my",
            "order",
            "number",
            "is",
            "12345",
            "today",
            "the",
            "app",
            "订单",
            "号码",
            "今天",
            "地址",
            "上海",
        ]
    ),
    max_size=12,
).map(" ".join)
# Neutral words mixed with trouble, tone, negation and intensifiers, so their rules meet.
MIXED = st.lists(
    st.sampled_from(
        ["my", "order", "今天", "lost", "丢了", "broken", "hasn't arrived", "支付失败", "angry", "terrible",
         "thanks", "不满意", "非常", "not", "没", "so", "!!", "?", "what if", "如果", "好烦", "great"]
    ),
    max_size=14,
).map(" ".join)  # fmt: skip
REQUESTS = ["I want to talk to a human", "转人工", "can I speak to a real person", "找个真人跟我说"]
DEMANDS = ["I want a full refund today", "马上给我退款", "I'm reporting you to the regulator", "我要求赔偿"]


@SETTINGS
@given(ANY_TEXT)
def test_no_rule_raises_on_any_text(text: str) -> None:
    HANDOFF.detect(text)
    mood = SENTIMENT.score(text)
    ESCALATION.detect(text, mood.score)
    trouble_cues(text)
    problem_cue(text)
    want_cue(text)
    assert mood.label in ("negative", "neutral", "positive")


@SETTINGS
@given(st.one_of(ANY_TEXT, MIXED))
def test_sentiment_is_consistent_with_its_own_score(text: str) -> None:
    mood = SENTIMENT.score(text)
    assert (mood.label == "negative") == (mood.score <= SENTIMENT.negative_at)
    assert mood.strong == (mood.score <= SENTIMENT.strong_at)
    assert not (mood.trouble and (mood.strong or mood.upset)), "trouble alone is mild and not upset"
    assert not mood.upset or mood.label == "negative"
    assert SENTIMENT.score(text) == mood, "the same text scores the same"


@SETTINGS
@given(NEUTRAL, NEUTRAL, st.sampled_from(REQUESTS))
def test_a_request_survives_neutral_context(before: str, after: str, request: str) -> None:
    text = f"{before}. {request}. {after}".strip(". ")
    assert HANDOFF.detect(text).handoff, text


@SETTINGS
@given(NEUTRAL, NEUTRAL, st.sampled_from(DEMANDS))
def test_a_demand_survives_neutral_context(before: str, after: str, demand: str) -> None:
    text = f"{before}. {demand}. {after}".strip(". ")
    assert ESCALATION.detect(text, SENTIMENT.score(text).score).escalate, text


@SETTINGS
@given(NEUTRAL)
def test_neutral_words_trigger_nothing(text: str) -> None:
    mood = SENTIMENT.score(text)
    assert not HANDOFF.detect(text).handoff
    assert not ESCALATION.detect(text, mood.score).escalate
    assert mood.label == "neutral" and not trouble_cues(text) and not problem_cue(text)


EMOJI = st.lists(
    st.sampled_from(["😩", "😭", "🙄", "😡", "🤬", "👍", "🎉", "🙂", "😅", "🙏"]), max_size=5
).map("".join)
TONE = st.lists(
    st.sampled_from(["terrible", "angry", "worst", "垃圾", "气死", "scam", "!!", "great", "thanks", "my order", "今天"]),
    max_size=6,
).map(" ".join)  # fmt: skip


@SETTINGS
@given(TONE, EMOJI)
def test_emoji_never_decide_whether_a_message_is_strong(words: str, emoji: str) -> None:
    """Session 20: emoji move the score, never across the line that hands a message over alone."""
    plain, with_emoji = SENTIMENT.score(words), SENTIMENT.score(f"{words} {emoji}")
    assert with_emoji.strong == plain.strong, (words, emoji)
    assert with_emoji.strong == (with_emoji.score <= SENTIMENT.strong_at)


@SETTINGS
@given(NEUTRAL, st.sampled_from(["not a complaint, but", "不是投诉哈，", "I'm not making a complaint -"]))
def test_a_disclaimer_never_makes_a_message_positive(rest: str, disclaimer: str) -> None:
    assert SENTIMENT.score(f"{disclaimer} {rest}").label != "positive"
