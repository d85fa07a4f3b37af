"""The OpenAI-compatible client against the stub server over HTTP, in-process mocks, and (opt-in) a real endpoint."""

from __future__ import annotations

import json
import os

import httpx2
import pytest

from parley.bots.llm import HANDOFF_TOOL, LLM, Completion, LLMConfig, LLMError, TextDelta, ToolCall
from tests.bots.llm_stub import MODEL, LLMStub, Reply

pytestmark = pytest.mark.timeout(30)

HI = [{"role": "user", "content": "hi"}]


def config(stub: LLMStub, **kw: object) -> LLMConfig:
    fields: dict[str, object] = {"timeout": 2.0, "max_retries": 1, "api_key": "sk-test"}
    fields.update(kw)
    return LLMConfig(stub.base_url, MODEL, **fields)  # type: ignore[arg-type]


async def test_models_and_plain_completion(stub: LLMStub) -> None:
    async with LLM(config(stub)) as llm:
        assert await llm.models() == [MODEL]
        stub.script(Reply(text="Hello there"))
        assert await llm.complete(HI) == Completion("Hello there")
    assert stub.api_keys == ["sk-test"], "the API key is sent as a bearer token"
    assert stub.requests[0]["model"] == MODEL and stub.requests[0]["messages"] == HI


async def test_streaming_yields_pieces_in_order(stub: LLMStub) -> None:
    stub.script(Reply(text="Refunds take 3-7 business days.", chunks=5))
    async with LLM(config(stub)) as llm:
        pieces = [p async for p in llm.stream(HI)]
    assert len(pieces) == 5 and all(isinstance(p, TextDelta) for p in pieces)
    assert "".join(p.text for p in pieces if isinstance(p, TextDelta)) == "Refunds take 3-7 business days."
    assert stub.requests[0]["stream"] is True


async def test_tool_call_streamed_in_fragments_is_reassembled(stub: LLMStub) -> None:
    args = {"reason": "angry customer", "summary": "wants a refund approved"}
    stub.script(Reply(text="Let me get someone.", tool=("handoff_to_human", args)))
    async with LLM(config(stub)) as llm:
        pieces = [p async for p in llm.stream(HI, tools=[HANDOFF_TOOL])]
    assert pieces[-1] == ToolCall("handoff_to_human", args, "call_1")
    sent = stub.requests[0]
    assert sent["tools"][0]["function"]["name"] == "handoff_to_human" and sent["tool_choice"] == "auto"


async def test_tool_call_without_streaming(stub: LLMStub) -> None:
    stub.script(Reply(tool=("handoff_to_human", {"reason": "asked"})))
    async with LLM(config(stub)) as llm:
        reply = await llm.complete(HI, tools=[HANDOFF_TOOL])
    assert reply.tool_calls == (ToolCall("handoff_to_human", {"reason": "asked"}, "call_1"),)


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_transient_errors_are_retried(stub: LLMStub, status: int) -> None:
    stub.script(Reply(status=status), Reply(text="second time lucky"))
    async with LLM(config(stub, max_retries=2)) as llm:
        assert (await llm.complete(HI)).text == "second time lucky"
    assert len(stub.requests) == 2


@pytest.mark.parametrize(
    ("status", "kind"), [(429, "rate_limited"), (500, "server_error"), (400, "bad_request")]
)
async def test_errors_after_retries_become_one_exception(stub: LLMStub, status: int, kind: str) -> None:
    stub.default = lambda _: Reply(status=status)
    async with LLM(config(stub, max_retries=1)) as llm:
        with pytest.raises(LLMError) as err:
            _ = [p async for p in llm.stream(HI)]
    assert err.value.kind == kind and err.value.status == status


async def test_slow_first_byte_times_out(stub: LLMStub) -> None:
    stub.default = lambda _: Reply(text="too late", delay=1.5)
    async with LLM(config(stub, timeout=0.3, max_retries=0)) as llm:
        with pytest.raises(LLMError) as err:
            await llm.complete(HI)
    assert err.value.kind == "timeout"


async def test_stream_that_stalls_midway_times_out(stub: LLMStub) -> None:
    stub.script(Reply(text="a slow answer", chunks=2, chunk_delay=1.5))
    async with LLM(config(stub, timeout=0.3, max_retries=0)) as llm:
        with pytest.raises(LLMError) as err:
            _ = [p async for p in llm.stream(HI)]
    assert err.value.kind == "timeout"


async def test_unreachable_server() -> None:
    from tests.servers import free_port

    cfg = LLMConfig(f"http://127.0.0.1:{free_port()}/v1", MODEL, timeout=1.0, max_retries=0)
    async with LLM(cfg) as llm:
        with pytest.raises(LLMError) as err:
            await llm.models()
    assert err.value.kind == "connection"


async def test_in_process_mock_transport() -> None:
    """``openai`` >= 3 speaks httpx2: a MockTransport client replaces the network entirely."""
    seen: list[dict[str, object]] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        seen.append(json.loads(request.content))
        message = {"role": "assistant", "content": "mocked"}
        return httpx2.Response(200, json={
            "id": "x", "object": "chat.completion", "created": 0, "model": MODEL,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        })  # fmt: skip

    http = httpx2.AsyncClient(transport=httpx2.MockTransport(handle))
    async with LLM(LLMConfig("http://llm.invalid/v1", MODEL), http_client=http) as llm:
        assert (await llm.complete(HI)).text == "mocked"
    assert seen[0]["messages"] == HI


def test_config_from_env() -> None:
    assert LLMConfig.from_env({}) is None
    cfg = LLMConfig.from_env(
        {"OPENAI_BASE_URL": "http://x/v1", "OPENAI_API_KEY": "k", "PARLEY_LLM_MODEL": "m"}
    )
    assert cfg == LLMConfig("http://x/v1", "m", "k")
    cfg = LLMConfig.from_env({"PARLEY_LLM_BASE_URL": "http://y/v1", "PARLEY_LLM_TIMEOUT": "3"})
    assert cfg is not None and cfg.timeout == 3.0 and cfg.api_key == "not-needed"


@pytest.mark.skipif(not os.environ.get("OPENAI_BASE_URL"), reason="set OPENAI_BASE_URL for a real endpoint")
async def test_real_endpoint_streams_an_answer() -> None:
    cfg = LLMConfig.from_env()
    assert cfg is not None
    async with LLM(LLMConfig(cfg.base_url, cfg.model, cfg.api_key, timeout=25.0, max_tokens=32)) as llm:
        pieces = [p async for p in llm.stream([{"role": "user", "content": "Say hello in one word."}])]
    assert "".join(p.text for p in pieces if isinstance(p, TextDelta)).strip()
