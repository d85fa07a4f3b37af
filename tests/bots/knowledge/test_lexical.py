from __future__ import annotations

import numpy as np

from parley.bots.knowledge.lexical import BM25Index, tokenize


def test_tokenize_segments_chinese_and_stems_english():
    toks = tokenize("Refunds for 专用发票 shipping?")
    assert {"refund", "ship", "专用", "发票", "专用发票", "票"} <= set(toks)
    assert "for" not in toks


def test_bm25_finds_chinese_by_words_and_scores_are_bounded():
    texts = ["退款在仓库收到退货后两个工作日内发起", "会员等级分为银卡和金卡", "运费满299元包邮"]
    bm = BM25Index(texts)
    s = bm.scores("金卡会员有什么等级")
    assert int(np.argmax(s)) == 1
    assert 0 < s.max() <= 1.0
    assert bm.scores("退款多久")[0] == bm.scores("退款多久").max()
    assert bm.scores("unrelated english words").max() == 0.0


def test_traditional_and_simplified_tokenize_alike() -> None:
    """A Traditional query meets a Simplified knowledge base (and the reverse) word for word."""
    assert tokenize("運費怎麼計算") == tokenize("运费怎么计算")
