"""Escalating complaints go to a human; questions about the same topics stay with the bot."""

from __future__ import annotations

import pytest

from parley.bots.escalation import EscalationDetector
from parley.bots.sentiment import SentimentScorer
from parley.bots.triage import Triage


@pytest.mark.parametrize(
    "text",
    [
        "I was double charged and I want my money back today",
        "We expect full compensation for the ruined weekend.",
        "Refund me the delivery fee now, it never arrived",
        "Fix this immediately or I'm cancelling everything",
        "I'll be reporting this to my bank as fraud if nobody calls me",
        "Get someone in charge to call me",
        "This is the fourth time I've asked and it's still broken, ridiculous",
        "快递丢了，我要求全额退款",
        "马上给我退款，不然我去消协投诉",
        "你们负责人出来说话",
        "已经投诉两次了没人管",
        "再不处理我就打12315",
        "不给退钱我就去点评网站给你们差评",
    ],
)
def test_demands_and_threats_escalate(text: str) -> None:
    scorer = SentimentScorer()
    assert EscalationDetector().detect(text, scorer.score(text).score).escalate, text


@pytest.mark.parametrize(
    "text",
    [
        "what's your refund policy?",
        "how long does a refund take to reach my card",
        "do I get compensation if the flight is delayed?",
        "is it ridiculous to ask for two sizes at once?",
        "how do I file a complaint about a courier?",
        "退款多久到账",
        "航班延误有补偿吗",
        "想投诉一下快递员，先问下流程是什么",
        "退货要自己付运费吗",
        "差评发出去了还能改吗",
        "给骑手的差评别人看得到吗",
    ],
)
def test_questions_about_refunds_and_complaints_do_not(text: str) -> None:
    scorer = SentimentScorer()
    assert not EscalationDetector().detect(text, scorer.score(text).score).escalate, text


def test_triage_order_and_reasons() -> None:
    triage, scorer = Triage(), SentimentScorer()

    def reason(text: str) -> str:
        mood = scorer.score(text)
        return triage.reason(text, mood, 1 if mood.label == "negative" else 0)

    assert reason("转人工").startswith("customer_request:")
    assert reason("I demand a refund for this broken phone") == "complaint:demand"
    assert reason("how long does a refund take?") == ""
    assert Triage(escalation=None).reason("I demand a refund", None, 0) == ""


def test_a_question_about_the_procedure_is_not_handed_over_on_sentiment_alone() -> None:
    """Complaint words in "how do I complain / which process gets my money back" are a question
    for the bot; the same words without a question about the procedure are anger."""
    triage, scorer = Triage(), SentimentScorer()

    def reason(text: str) -> str:
        mood = scorer.score(text)
        return triage.reason(text, mood, 1 if mood.label == "negative" else 0)

    assert reason("餐洒了想投诉，是走哪个流程退钱") == ""
    assert reason("想投诉骑手，怎么操作") == ""
    assert reason("if I want to complain about a rude driver, what's the process?") == ""
    assert reason("投诉！退钱！").startswith("sentiment:")
    assert reason("餐洒了想投诉，马上给我退钱") != ""
