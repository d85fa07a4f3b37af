"""LLM structured extraction into profile attributes, against the OpenAI-compatible stub."""

from __future__ import annotations

from parley.bots.extract import ProfileExtractor
from parley.bots.llm import LLM, LLMConfig
from tests.bots.llm_stub import MODEL, LLMStub, Reply


def config(stub: LLMStub) -> LLMConfig:
    return LLMConfig(stub.base_url, MODEL, timeout=5.0, max_retries=0)


async def test_extracts_validated_attributes(stub: LLMStub) -> None:
    args = {
        "product_interest": ["running shoes"],
        "budget": 120,
        "currency": "USD",
        "purchase_intent": "high",
    }
    stub.script(Reply(tool=("record_profile", args)))
    async with LLM(config(stub)) as llm:
        found = await ProfileExtractor(llm).extract("I want running shoes under $120, buying today", ["hi"])
    assert found == {
        "product_interest": ["running shoes"],
        "budget": 120.0,
        "currency": "USD",
        "purchase_intent": "high",
    }
    sent = stub.sent_text()
    assert "record_profile" in sent or "running shoes" in sent


async def test_invented_fields_and_bad_types_change_nothing(stub: LLMStub) -> None:
    stub.script(Reply(tool=("record_profile", {"purchase_intent": "certainly", "budget": "lots"})))
    async with LLM(config(stub)) as llm:
        assert await ProfileExtractor(llm).extract("maybe") == {}
    stub.script(Reply(tool=("record_profile", {"religion": "x", "purchase_intent": "low"})))
    async with LLM(config(stub)) as llm:
        assert await ProfileExtractor(llm).extract("just looking") == {"purchase_intent": "low"}


async def test_a_failing_model_extracts_nothing(stub: LLMStub) -> None:
    stub.script(Reply(status=500))
    async with LLM(config(stub)) as llm:
        assert await ProfileExtractor(llm).extract("I need a coat") == {}
    stub.script(Reply(text="no tool call"))
    async with LLM(config(stub)) as llm:
        assert await ProfileExtractor(llm).extract("hello") == {}
