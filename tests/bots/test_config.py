"""The bot's configuration: defaults < environment < config file < command line, and it reaches the bot."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

from parley.bots import tags
from parley.bots.__main__ import _args, config_from, warm_up
from parley.bots.answer import Answerer
from parley.bots.config import BotConfig, ConfigError
from parley.bots.knowledge import KnowledgeIndex, MultilingualUSEEmbedder
from parley.bots.knowledge.gloss import shared_glossary
from parley.bots.knowledge.retrieval import GLOSS
from parley.bots.knowledge.spelling import english_words
from parley.bots.tags import InterestTagger, TagDefinition, load_tag_definitions


def test_file_then_command_line_override(tmp_path: Path) -> None:
    f = tmp_path / "bot.toml"
    f.write_text(
        'name = "Harbor Bank"\ntopics = "cards, fees and payments"\nanswer_threshold = 0.4\n'
        'signals = ["bm25", "use-multilingual-v3"]\nllm_base_url = "http://llm.local/v1"\n',
        encoding="utf-8",
    )
    env = {"PARLEY_LLM_BASE_URL": "http://env.local/v1", "PARLEY_LLM_MODEL": "env-model"}
    cfg = config_from(_args(["--config", str(f), "--answer-threshold", "0.5", "--refusal", "No."]), env)
    assert (cfg.name, cfg.topics, cfg.refusal) == ("Harbor Bank", "cards, fees and payments", "No.")
    assert cfg.answer_threshold == 0.5  # the command line wins over the file
    assert cfg.signals == ("bm25", "use-multilingual-v3")
    assert cfg.llm_base_url == "http://llm.local/v1" and cfg.llm_model == "env-model"  # file > env
    retrieval = cfg.retrieval()
    assert retrieval.answer_threshold == 0.5 and retrieval.signals == cfg.signals
    llm = cfg.llm()
    assert llm is not None and llm.base_url == "http://llm.local/v1"


def test_thresholds_are_adaptive_by_default_and_can_be_fixed() -> None:
    assert config_from(_args([]), {}).retrieval().adaptive
    fixed = config_from(_args(["--thresholds", "fixed", "--out-of-scope-below", "0.2"]), {})
    assert not fixed.retrieval().adaptive and fixed.out_of_scope_below == 0.2


def test_defaults_name_no_shop_and_no_llm() -> None:
    cfg = config_from(_args([]), {})
    assert "shipping" not in cfg.topics and cfg.llm() is None
    assert cfg.topics in cfg.refusal_text()


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ({"topic": "typo"}, "unknown setting 'topic'"),
        ({"answer_threshold": "high"}, "answer_threshold must be a float"),
        ({"answer_threshold": 3}, "between 0 and 1"),
        ({"signals": ["bert"]}, "signals must be some of"),
        ({"low_confidence_limit": True}, "low_confidence_limit must be a int"),
        ({"thresholds": "magic"}, "thresholds must be adaptive or fixed"),
        ({"gloss": "yes"}, "gloss must be a bool"),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, content: dict[str, object], match: str) -> None:
    f = tmp_path / "bot.json"
    f.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        BotConfig.read(f)


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    f = tmp_path / "bot.toml"
    f.write_text("name = ", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read"):
        BotConfig.read(f)


def test_topics_and_refusal_reach_the_answerer(use: MultilingualUSEEmbedder) -> None:
    index = KnowledgeIndex([use])
    a = Answerer(index, app_name="Harbor Bank", topics="cards, fees and payments")
    assert "Harbor Bank" in a.system_prompt and "cards, fees and payments" in a.system_prompt
    assert "cards, fees and payments" in a.refusal["en"] and "shop" not in a.refusal["zh"]
    assert (
        Answerer(index, refusal="Only card questions, sorry.").refusal["en"] == "Only card questions, sorry."
    )


class _Counting:
    name, dim, multilingual = "counting", 1, True

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str]) -> object:
        self.calls.append(texts)
        return None


def test_warm_up_loads_every_model() -> None:
    a, b = _Counting(), _Counting()
    warm_up([a, b])  # type: ignore[list-item]
    assert a.calls and b.calls


def test_warm_up_loads_the_dictionary_when_glosses_are_on() -> None:
    shared_glossary.cache_clear()
    warm_up([_Counting()])  # type: ignore[list-item]
    assert shared_glossary.cache_info().currsize == 0
    warm_up([_Counting()], gloss=True)  # type: ignore[list-item]
    assert shared_glossary.cache_info().currsize == 1


def test_spelling_is_on_by_default_and_can_be_turned_off(tmp_path: Path) -> None:
    assert config_from(_args([]), {}).retrieval().spelling
    f = tmp_path / "bot.toml"
    f.write_text("spelling = false\n", encoding="utf-8")
    assert not config_from(_args(["--config", str(f)]), {}).retrieval().spelling
    assert config_from(_args(["--config", str(f), "--spelling"]), {}).retrieval().spelling
    assert not config_from(_args(["--no-spelling"]), {}).retrieval().spelling
    assert config_from(_args([]), {}).retrieval().focus
    assert not config_from(_args(["--no-focus"]), {}).retrieval().focus


def test_the_learned_reorder_is_on_only_with_the_signals_it_was_fitted_with(tmp_path: Path) -> None:
    assert config_from(_args([]), {}).retrieval().rerank
    assert not config_from(_args(["--no-rerank"]), {}).retrieval().rerank
    f = tmp_path / "bot.toml"
    f.write_text('signals = ["use-multilingual-v3"]\n', encoding="utf-8")
    assert not config_from(_args(["--config", str(f)]), {}).reranks()
    assert not config_from(_args(["--fusion", "rrf"]), {}).retrieval().rerank


def test_the_answer_gate_is_on_only_with_the_reorder_and_adaptive_thresholds(tmp_path: Path) -> None:
    default = config_from(_args([]), {})
    assert default.gates() and default.retrieval().gate
    assert default.retrieval().answer_probability == default.answer_probability == 0.30
    assert not config_from(_args(["--no-gate"]), {}).retrieval().gate
    assert not config_from(_args(["--no-rerank"]), {}).gates()
    assert not config_from(_args(["--thresholds", "fixed"]), {}).gates()
    f = tmp_path / "bot.toml"
    f.write_text("answer_probability = 0.6\ngate = false\n", encoding="utf-8")
    cfg = config_from(_args(["--config", str(f), "--gate"]), {})
    assert cfg.gates() and cfg.retrieval().answer_probability == 0.6
    assert config_from(_args(["--answer-probability", "0.5"]), {}).retrieval().answer_probability == 0.5
    with pytest.raises(ConfigError, match="answer_probability"):
        config_from(_args(["--answer-probability", "1.5"]), {})
    assert default.overrule_floor_from == 0.5
    assert config_from(_args(["--overrule-floor-from", "0.8"]), {}).overrule_floor_from == 0.8
    with pytest.raises(ConfigError, match="overrule_floor_from"):
        config_from(_args(["--overrule-floor-from", "-1"]), {})


def test_warm_up_reads_the_spelling_word_list() -> None:
    english_words.cache_clear()
    warm_up([_Counting()])  # type: ignore[list-item]
    assert english_words.cache_info().currsize == 1


def test_gloss_is_on_by_default_and_set_by_file_or_option(tmp_path: Path) -> None:
    assert GLOSS in config_from(_args([]), {}).retrieval().views
    f = tmp_path / "bot.toml"
    f.write_text("gloss = false\n", encoding="utf-8")
    assert GLOSS not in config_from(_args(["--config", str(f)]), {}).retrieval().views
    assert GLOSS in config_from(_args(["--config", str(f), "--gloss"]), {}).retrieval().views
    assert GLOSS not in config_from(_args(["--no-gloss"]), {}).retrieval().views


def test_tag_file_without_options_gets_the_documented_defaults(
    tmp_path: Path, use: MultilingualUSEEmbedder
) -> None:
    f = tmp_path / "tags.json"
    f.write_text(json.dumps({"tags": [{"name": "interest:x", "examples": ["x please"]}]}), encoding="utf-8")
    defs, options = load_tag_definitions(f)
    tagger = InterestTagger(use, defs, **options)
    assert (tagger.threshold, tagger.margin, tagger.gap) == (0.40, 0.08, 0.0)
    assert (tagger.problem_penalty, tagger.want_bonus) == (0.20, 0.05)
    plain = InterestTagger(use, [TagDefinition("interest:y", "", ("y",))])
    assert (plain.margin, plain.gap, plain.problem_penalty, plain.want_bonus) == (0.08, 0.0, 0.20, 0.05)


def test_the_tag_defaults_in_the_docs_are_the_codes() -> None:
    """docs/BOT.md and the tags module's docstring name every numeric default of InterestTagger."""

    defaults = {
        name: p.default
        for name, p in inspect.signature(InterestTagger.__init__).parameters.items()
        if isinstance(p.default, float)
    }
    assert set(defaults) == {"threshold", "margin", "gap", "problem_penalty", "want_bonus", "english_weight"}
    bot_md = (Path(__file__).resolve().parents[2] / "docs" / "BOT.md").read_text(encoding="utf-8")
    (row,) = [line for line in bot_md.splitlines() if "parley.bots.tags.InterestTagger" in line]
    for where, text in (("docs/BOT.md", row), ("parley.bots.tags", tags.__doc__ or "")):
        for name, value in defaults.items():
            assert re.search(rf"`+{name}`+ {value:.2f}", text), f"{where} does not give {name} {value:.2f}"
