"""Unrelated questions that calibrate an app's thresholds against its own knowledge base.

A raw confidence means different things in different knowledge bases: a food-delivery FAQ full
of everyday words scores a new customer's colloquial question as low as a bank's FAQ scores an
off-topic one.  So the index asks itself these questions — about nothing any business would
answer — and takes a high quantile of their confidences (``RetrievalConfig.null_quantile``, the
95th percentile: not the maximum, which one probe a business happens to answer would set alone) as
the app's *null level*: a message scoring not clearly above that is out of scope for this
knowledge base (:meth:`~.retrieval.KnowledgeIndex.thresholds`).

The list is fixed and generic, English and Chinese, and was written without looking at any
evaluation message (none of its topics is one of the sets' out-of-scope requests).
"""

from __future__ import annotations

__all__ = ["NULL_PROBES"]

NULL_PROBES: tuple[str, ...] = (
    "what's the capital of Australia",
    "tell me a joke",
    "how tall is Mount Everest",
    "can you help me with my maths homework",
    "who wrote Romeo and Juliet",
    "how do I fix a flat tyre on my bike",
    "what films are on at the cinema this weekend",
    "recommend a good novel to read",
    "how do I grow tomatoes on my balcony",
    "my cat keeps sneezing, should I worry",
    "write a short poem about the sea",
    "what is 15 percent of 80",
    "how do I say thank you in Japanese",
    "which phone has the best camera this year",
    "讲个笑话",
    "今天星期几",
    "帮我写一首诗",
    "珠穆朗玛峰有多高",
    "推荐一部好看的电视剧",
    "多肉植物怎么养",
    "猫一直打喷嚏怎么办",
    "帮我解一道数学题",
    "明朝是哪一年建立的",
    "洗衣机漏水怎么修",
)
