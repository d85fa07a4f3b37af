from __future__ import annotations

import pytest

from parley.bots.knowledge import HandoffDetector

POSITIVE = [
    "human please",
    "转人工",
    "人工",
    "我要人工服务",
    "transfer me to a live agent",
    "找真人",
    "转human",
    "상담원 연결해 주세요",
]
NEGATIVE = [
    "is the agent discount still valid",
    "人工智能手表有吗",
    "do you sell human hair wigs",
    "客服几点上班",
    "talk to you later",
]


@pytest.mark.parametrize("text", POSITIVE)
def test_explicit_requests_are_detected(text):
    d = HandoffDetector().detect(text)
    assert d.handoff and d.reason.startswith("rule")


@pytest.mark.parametrize("text", NEGATIVE)
def test_words_alone_do_not_hand_over(text):
    assert not HandoffDetector().detect(text).handoff


def test_similarity_vote_only_for_short_messages(use):
    d = HandoffDetector(use, similarity_threshold=0.8)
    assert d.detect("I want to talk to a human being right now").handoff
    assert not d.detect("").handoff
