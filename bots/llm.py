"""A small client for any OpenAI-compatible chat-completions server, through the ``openai`` package.

It works with OpenAI itself and with compatible servers (llama.cpp, vLLM, Ollama, ...):
configure a base URL, a model and an API key (:class:`LLMConfig`, or
:meth:`LLMConfig.from_env`). Streaming yields :class:`TextDelta` pieces as the model
writes, then any :class:`ToolCall` once its arguments are complete. Timeouts and
retries of rate limits (429) and server errors (5xx) are the ``openai`` client's;
whatever still fails surfaces as one :class:`LLMError`, so callers fall back on one
exception type.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai

__all__ = [
    "HANDOFF_TOOL",
    "LLM",
    "Completion",
    "LLMConfig",
    "LLMError",
    "TextDelta",
    "ToolCall",
]

#: The function the model calls to hand the conversation to a human agent.
HANDOFF_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "handoff_to_human",
        "description": (
            "Hand the conversation to a human customer-service agent. Call it when the customer "
            "asks for a person, is clearly upset, or needs something the passages cannot answer "
            "(refunds to approve, account-specific problems, complaints)."
        ),
        "parameters": {
            "type": "object",
            "properties": {
                "reason": {"type": "string", "description": "Why a human is needed, in a few words."},
                "summary": {
                    "type": "string",
                    "description": "One or two sentences for the agent: what the customer wants so far.",
                },
            },
            "required": ["reason"],
        },
    },
}


@dataclass(frozen=True, slots=True)
class LLMConfig:
    """Where the model is and how patient to be with it.

    ``timeout`` bounds each HTTP attempt (seconds); ``max_retries`` retries 408/409/429/5xx
    and connection errors with the ``openai`` client's backoff.
    """

    base_url: str
    model: str
    api_key: str = "not-needed"
    timeout: float = 20.0
    max_retries: int = 2
    temperature: float = 0.2
    max_tokens: int = 512
    extra_headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LLMConfig | None:
        """``PARLEY_LLM_BASE_URL``/``OPENAI_BASE_URL``, ``PARLEY_LLM_MODEL``/``OPENAI_MODEL``,
        ``PARLEY_LLM_API_KEY``/``OPENAI_API_KEY``, ``PARLEY_LLM_TIMEOUT``; ``None`` when no base URL is set.
        """
        env = os.environ if env is None else env
        base = env.get("PARLEY_LLM_BASE_URL") or env.get("OPENAI_BASE_URL")
        if not base:
            return None
        model = env.get("PARLEY_LLM_MODEL") or env.get("OPENAI_MODEL") or "gpt-4o-mini"
        key = env.get("PARLEY_LLM_API_KEY") or env.get("OPENAI_API_KEY") or "not-needed"
        timeout = float(env.get("PARLEY_LLM_TIMEOUT") or 20.0)
        return cls(base_url=base, model=model, api_key=key, timeout=timeout)


class LLMError(Exception):
    """The model could not answer (timeout, error status, rate limit, bad reply) after retries."""

    def __init__(self, message: str, *, status: int | None = None, kind: str = "error") -> None:
        super().__init__(message)
        self.status = status
        #: ``timeout``, ``rate_limited``, ``server_error``, ``connection``, ``bad_request`` or ``error``.
        self.kind = kind


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer text, in order."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """The model called function ``name`` with ``arguments`` (parsed JSON; ``{}`` if unparsable)."""

    name: str
    arguments: dict[str, Any]
    id: str = ""


@dataclass(frozen=True, slots=True)
class Completion:
    """A whole reply: its text and the tool calls it made."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()


def _error(exc: BaseException) -> LLMError:
    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return LLMError(f"the model timed out: {exc}", kind="timeout")
    if isinstance(exc, openai.RateLimitError):
        return LLMError(f"rate limited: {exc}", status=429, kind="rate_limited")
    if isinstance(exc, openai.APIStatusError):
        kind = "server_error" if exc.status_code >= 500 else "bad_request"
        return LLMError(f"the model answered {exc.status_code}: {exc}", status=exc.status_code, kind=kind)
    if isinstance(exc, openai.APIConnectionError):
        return LLMError(f"cannot reach the model: {exc}", kind="connection")
    return LLMError(f"the model failed: {exc!r}")


def _parse_args(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


class LLM:
    """An async chat-completions client for one configured model.

    ``http_client`` replaces the transport (tests inject an ``httpx2.AsyncClient`` with a
    ``MockTransport``). Close with :meth:`aclose` (or ``async with``).
    """

    def __init__(self, config: LLMConfig, *, http_client: httpx2.AsyncClient | None = None) -> None:
        self.config = config
        self._client = openai.AsyncOpenAI(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=config.max_retries,
            default_headers=dict(config.extra_headers) or None,
            http_client=http_client,
        )

    async def __aenter__(self) -> LLM:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()

    async def models(self) -> list[str]:
        """The model ids the server offers (a cheap reachability check)."""
        try:
            page = await self._client.models.list()
        except (openai.OpenAIError, TimeoutError) as exc:
            raise _error(exc) from exc
        return [m.id for m in page.data]

    def _params(
        self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.config.model,
            "messages": [dict(m) for m in messages],
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
        }
        if tools:
            params["tools"] = [dict(t) for t in tools]
            params["tool_choice"] = "auto"
        return params

    async def complete(
        self, messages: Sequence[Mapping[str, Any]], *, tools: Sequence[Mapping[str, Any]] = ()
    ) -> Completion:
        """One whole reply (no streaming)."""
        try:
            reply = await self._client.chat.completions.create(**self._params(messages, tools))
        except (openai.OpenAIError, TimeoutError) as exc:
            raise _error(exc) from exc
        if not reply.choices:
            raise LLMError("the model returned no choices", kind="bad_reply")
        message = reply.choices[0].message
        calls = tuple(
            ToolCall(c.function.name, _parse_args(c.function.arguments), c.id)
            for c in message.tool_calls or ()
            if getattr(c, "function", None) is not None
        )
        return Completion(message.content or "", calls)

    async def stream(
        self, messages: Sequence[Mapping[str, Any]], *, tools: Sequence[Mapping[str, Any]] = ()
    ) -> AsyncIterator[TextDelta | ToolCall]:
        """Stream a reply: :class:`TextDelta` pieces as they come, then complete :class:`ToolCall` s.

        ``config.timeout`` also bounds the wait for each next chunk, so a server that
        stalls mid-answer raises :class:`LLMError` instead of hanging.
        """
        calls: dict[int, dict[str, str]] = {}
        try:
            stream = await self._client.chat.completions.create(**self._params(messages, tools), stream=True)
            iterator = stream.__aiter__()
            try:
                while True:
                    try:
                        async with asyncio.timeout(self.config.timeout):
                            chunk = await iterator.__anext__()
                    except StopAsyncIteration:
                        break
                    for choice in chunk.choices:
                        delta = choice.delta
                        if delta.content:
                            yield TextDelta(delta.content)
                        for call in delta.tool_calls or ():
                            slot = calls.setdefault(call.index, {"id": "", "name": "", "args": ""})
                            slot["id"] = call.id or slot["id"]
                            if call.function is not None:
                                slot["name"] += call.function.name or ""
                                slot["args"] += call.function.arguments or ""
            finally:
                await stream.close()
        except (openai.OpenAIError, TimeoutError, httpx2.HTTPError) as exc:
            raise _error(exc) from exc
        for _, slot in sorted(calls.items()):
            if slot["name"]:
                yield ToolCall(slot["name"], _parse_args(slot["args"]), slot["id"])
