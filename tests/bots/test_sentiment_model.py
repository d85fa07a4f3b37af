"""The trained sentiment model: fitting, the shipped file, and how the scorer uses it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from parley.bots.evalsets import load_sets
from parley.bots.knowledge.embedders import MultilingualUSEEmbedder
from parley.bots.sentiment import SentimentScorer, bot_scorer
from parley.bots.sentiment_fit import fit_development, labelled, leave_one_set_out, main
from parley.bots.sentiment_model import LABELS, MODEL_PATH, SentimentModel, fit

pytestmark = pytest.mark.timeout(300)


def _clusters() -> tuple[np.ndarray, list[str]]:
    """Three well separated clusters of unit vectors, one per label, 20 / 60 / 10 of them."""
    rng = np.random.default_rng(7)
    centres = np.eye(8)[:3] * 3.0
    vectors, labels = [], []
    for label, centre, n in zip(LABELS, centres, (20, 60, 10), strict=True):
        v = centre + rng.normal(scale=0.5, size=(n, 8))
        vectors.append(v / np.linalg.norm(v, axis=1, keepdims=True))
        labels += [label] * n
    return np.vstack(vectors).astype(np.float32), labels


def test_fit_learns_separable_classes_and_is_deterministic() -> None:
    x, y = _clusters()
    model = fit(x, y, embedder="toy")
    pred = [LABELS[i] for i in model.probabilities(x).argmax(axis=1)]
    assert pred == y
    again = fit(x, y, embedder="toy")
    assert np.array_equal(model.weights, again.weights) and np.array_equal(model.bias, again.bias)


def test_fit_rejects_unknown_or_missing_labels() -> None:
    x, y = _clusters()
    with pytest.raises(ValueError, match="unknown"):
        fit(x, [*y[:-1], "furious"], embedder="toy")
    with pytest.raises(ValueError, match="every label"):
        fit(x[:80], y[:80], embedder="toy")


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    x, y = _clusters()
    model = fit(x, y, embedder="toy")
    model.save(tmp_path / "m.npz")
    back = SentimentModel.load(tmp_path / "m.npz")
    assert back.embedder == "toy"
    assert np.allclose(back.probabilities(x), model.probabilities(x))


def test_the_scorer_refuses_a_model_of_another_embedder(use: MultilingualUSEEmbedder) -> None:
    x, y = _clusters()
    with pytest.raises(ValueError, match="toy"):
        SentimentScorer(embedder=use, model=fit(x, y, embedder="toy"))
    with pytest.raises(ValueError):
        SentimentScorer(model=SentimentModel.load())


def test_the_shipped_model_is_the_one_the_development_sets_give(use: MultilingualUSEEmbedder) -> None:
    """``python -m parley.bots.sentiment_fit`` reproduces the shipped file: when a set is added
    or a holdout becomes a development set, this fails until the model is fitted again."""
    data = labelled(load_sets(), use)
    assert data and not any(s.holdout for s in load_sets() if s.name in {d.name for d in data})
    shipped = SentimentModel.load()
    refit = fit_development(data, use)
    x = np.vstack([d.vectors for d in data])
    assert shipped.embedder == use.name
    assert np.allclose(shipped.probabilities(x), refit.probabilities(x), atol=1e-3)


def test_described_trouble_without_tone_words_is_negative_but_not_tone(use: MultilingualUSEEmbedder) -> None:
    """New phrasings, in no set: no lexicon word fires, the model reads the situation."""
    scorer, plain = bot_scorer(use), SentimentScorer(embedder=use)
    for text in (
        "my package was stolen from the doorstep",
        "the heater in room 12 stopped working last night",
        "昨天交的押金到现在还没到账，页面一直显示处理中",
    ):
        mood = scorer.score(text)
        assert mood.label == "negative", (text, mood)
        # Labelled as a described situation: the "negative in a row" hand-over counts tone only.
        assert mood.trouble and not mood.upset and mood.tone == 0.0 and not mood.strong, mood
        assert any(e.startswith("model:negative") for e in mood.evidence)
        assert plain.score(text).label != "negative" or plain.score(text).trouble
    for text in ("what time do you open on sundays?", "can I pay with apple pay", "周末营业到几点"):
        assert scorer.score(text).label == "neutral", text


def test_tone_words_decide_before_the_model(use: MultilingualUSEEmbedder) -> None:
    scorer = bot_scorer(use)
    mood = scorer.score("thanks, that was really helpful")
    assert mood.label == "positive" and not any(e.startswith("model:") for e in mood.evidence)
    angry = scorer.score("this is absolutely unacceptable")
    assert angry.upset and not any(e.startswith("model:") for e in angry.evidence)


def test_leave_one_set_out_and_the_cli(
    use: MultilingualUSEEmbedder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = labelled(load_sets(), use)[:3]
    table = leave_one_set_out(data, use)
    assert set(table) == {d.name for d in data}
    for rows in table.values():
        assert set(rows) == {"without the model", "with the model"}
        assert all(int(c[4]) == len(data[0].texts) or int(c[4]) > 0 for c in rows.values())
    main(["--out", str(tmp_path / "m.npz")])
    assert "fitted on" in capsys.readouterr().out
    assert SentimentModel.load(tmp_path / "m.npz").embedder == use.name
    assert MODEL_PATH.is_file()
