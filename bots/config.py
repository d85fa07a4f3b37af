"""The bot's configuration: one typed record, from defaults, a config file and the command line.

Precedence: the defaults below < the environment (LLM settings only, ``PARLEY_LLM_*``) < the
file given with ``--config`` (TOML or JSON, flat keys named like the fields) < command-line
options.  Every field is documented in docs/BOT.md ("Configuration"); an unknown key or a
value of the wrong type is an error naming the key, so a typo never runs silently with a
default.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from parley.bots.knowledge.retrieval import BM25, GLOSS, RetrievalConfig
from parley.bots.llm import LLMConfig

__all__ = ["BotConfig", "ConfigError"]

_SIGNALS = (BM25, "all-MiniLM-L6-v2", "use-multilingual-v3")


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the key and why."""


@dataclass(frozen=True)
class BotConfig:
    """Everything a business sets about its bot (see docs/BOT.md for each field)."""

    #: How the bot names the business in the LLM's system prompt.
    name: str = "our company"
    #: What the bot may talk about (system prompt, and the refusal text's default).
    topics: str = "questions about our products and services"
    #: Said when the bot declines (a leaked prompt, a forbidden request); default built from ``topics``.
    refusal: str = ""
    #: Retrieval signals, any of ``bm25``, ``all-MiniLM-L6-v2``, ``use-multilingual-v3``.
    signals: tuple[str, ...] = _SIGNALS
    #: ``weighted``, ``boost`` or ``rrf`` (see parley.bots.knowledge.retrieval).
    fusion: str = "weighted"
    #: Confidence from which an FAQ entry is quoted; below it the bot asks to rephrase / hands over.
    answer_threshold: float = RetrievalConfig().answer_threshold
    #: The top entry's translation twin is preferred within this much of the top score.
    same_language_margin: float = 0.15
    #: Without an LLM, a request scoring below this is out of scope: handed over at once
    #: (negative, the default: calibrated per knowledge base; 0: never).
    out_of_scope_below: float = -1.0
    #: With the answer gate, a request under that floor is still answered from this probability.
    overrule_floor_from: float = 0.5
    #: ``adaptive`` (thresholds calibrated per knowledge base) or ``fixed`` (``answer_threshold``).
    thresholds: str = "adaptive"
    #: Low-confidence answers in a row before the bot hands over.
    low_confidence_limit: int = 2
    #: Score each entry also through its CC-CEDICT dictionary gloss in the other language
    #: (cross-lingual retrieval without a model; parley.bots.knowledge.gloss).  On by default
    #: since session 8: it gained on the development sets and on the session-7 holdouts alike.
    gloss: bool = True
    #: Repair misspelt English words of a question towards the knowledge base's own words
    #: (parley.bots.knowledge.spelling).
    spelling: bool = True
    #: Weigh a long message's question sentences as much as the whole message
    #: (parley.bots.knowledge.focus).
    focus: bool = True
    #: Reorder the top hits with the shipped learned model (parley.bots.knowledge.rerank).
    rerank: bool = True
    #: Decide whether to answer with the shipped learned gate (parley.bots.knowledge.gate) instead
    #: of ``answer_threshold``; it needs the reorder and adaptive thresholds.
    gate: bool = True
    #: The gate's estimated probability that the first entry is right from which the bot answers.
    answer_probability: float = RetrievalConfig().answer_probability
    #: Interest-tag definitions file ("" = the example shop's; see ``--no-tags``).
    tags: str = ""
    #: An OpenAI-compatible endpoint ("" = no LLM, FAQ answers only).
    llm_base_url: str = ""
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str = field(default="not-needed", repr=False)
    #: Seconds per HTTP attempt and per streamed chunk.
    llm_timeout: float = 20.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BotConfig:
        """Defaults, with the LLM settings of ``PARLEY_LLM_*`` / ``OPENAI_*`` when set."""
        llm = LLMConfig.from_env(env)
        if llm is None:
            return cls()
        return cls(
            llm_base_url=llm.base_url, llm_model=llm.model, llm_api_key=llm.api_key, llm_timeout=llm.timeout
        )

    def updated(self, values: Mapping[str, Any], origin: str) -> BotConfig:
        """A copy with ``values`` applied; ``None`` values are ignored (an option not given)."""
        known = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if value is None:
                continue
            name = key.replace("-", "_")
            if name not in known:
                raise ConfigError(f"{origin}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
            changes[name] = _coerce(name, getattr(self, name), value, origin)
        cfg = replace(self, **changes)
        cfg.validate(origin)
        return cfg

    def validate(self, origin: str = "configuration") -> None:
        """Raise :class:`ConfigError` for values no bot can run with."""
        bad = [s for s in self.signals if s not in _SIGNALS]
        if bad or not self.signals:
            raise ConfigError(f"{origin}: signals must be some of {', '.join(_SIGNALS)}, got {bad or 'none'}")
        if self.fusion not in ("weighted", "boost", "rrf"):
            raise ConfigError(f"{origin}: fusion must be weighted, boost or rrf, got {self.fusion!r}")
        for name in ("answer_threshold", "answer_probability", "overrule_floor_from"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{origin}: {name} must be between 0 and 1")
        if self.thresholds not in ("adaptive", "fixed"):
            raise ConfigError(f"{origin}: thresholds must be adaptive or fixed, got {self.thresholds!r}")
        if self.low_confidence_limit < 1:
            raise ConfigError(f"{origin}: low_confidence_limit must be at least 1")

    @classmethod
    def read(cls, path: Path, base: BotConfig | None = None) -> BotConfig:
        """``base`` (default: plain defaults) updated from a TOML (``.toml``) or JSON file."""
        try:
            raw = path.read_bytes()
            data = tomllib.loads(raw.decode("utf-8")) if path.suffix == ".toml" else json.loads(raw)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot read the configuration ({exc})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: the configuration must be a table/object of settings")
        return (base or cls()).updated(data, str(path))

    def retrieval(self) -> RetrievalConfig:
        """The index's retrieval configuration."""
        return replace(
            RetrievalConfig(),
            signals=self.signals,
            fusion=self.fusion,  # type: ignore[arg-type]  # checked in validate()
            answer_threshold=self.answer_threshold,
            adaptive=self.thresholds == "adaptive",
            views=(*RetrievalConfig().views, GLOSS) if self.gloss else RetrievalConfig().views,
            spelling=self.spelling,
            focus=self.focus,
            rerank=self.reranks(),
            gate=self.gates(),
            answer_probability=self.answer_probability,
        )

    def reranks(self) -> bool:
        """Whether the shipped reorder applies: ``rerank`` on, with the signals and fusion it was
        fitted with (the defaults); other signals would feed it features it never saw."""
        default = BotConfig()
        return self.rerank and (self.signals, self.fusion) == (default.signals, default.fusion)

    def gates(self) -> bool:
        """Whether the shipped answer gate decides: ``gate`` on, with the reorder whose log-odds it
        reads and the adaptive thresholds whose null level it reads."""
        return self.gate and self.reranks() and self.thresholds == "adaptive"

    def llm(self) -> LLMConfig | None:
        """The LLM client's configuration, or None without an endpoint."""
        if not self.llm_base_url:
            return None
        return LLMConfig(self.llm_base_url, self.llm_model, self.llm_api_key, timeout=self.llm_timeout)

    def refusal_text(self) -> str:
        """The refusal, by default naming the configured topics."""
        return self.refusal or f"Sorry, I can't help with that. I can answer {self.topics}."


def _coerce(name: str, current: Any, value: Any, origin: str) -> Any:
    if isinstance(current, tuple):
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(x, str) for x in items):
            raise ConfigError(f"{origin}: {name} must be a list of names")
        return tuple(x.strip() for x in items if x.strip())
    if isinstance(current, bool) and isinstance(value, bool):
        return value
    if isinstance(current, bool) or isinstance(value, bool):
        raise ConfigError(f"{origin}: {name} must be a {type(current).__name__}")
    if isinstance(current, int) and not isinstance(current, bool):
        if isinstance(value, int):
            return value
    elif isinstance(current, float):
        if isinstance(value, int | float):
            return float(value)
    elif isinstance(current, str) and isinstance(value, str):
        return value
    raise ConfigError(f"{origin}: {name} must be a {type(current).__name__}, got {value!r}")
