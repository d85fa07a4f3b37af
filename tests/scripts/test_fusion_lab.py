"""``scripts/fusion_lab.py`` never reads a holdout set, and its re-scoring of the default fusion makes
the same decision as the index itself (so the rules it compares are measured on the real thing)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fusion_lab", ROOT / "scripts" / "fusion_lab.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_a_holdout_set_is_skipped_on_its_flag_alone(tmp_path: Path) -> None:
    lab = _script()
    for name, holdout in (("alpha", False), ("beta", True), ("gamma", False)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "set.json").write_text(json.dumps({"name": name, "holdout": holdout}), "utf-8")
    (tmp_path / "notes").mkdir()  # not a set
    assert lab.dev_sets(tmp_path) == ["alpha", "gamma"]


def test_the_labs_default_rule_picks_what_the_index_picks() -> None:
    from parley.bots.evalsets import UNSEEN_DIR, build_index, load_set
    from parley.bots.knowledge.embedders import CachedEmbedder, MiniLMEmbedder, MultilingualUSEEmbedder

    lab = _script()
    embedders = [CachedEmbedder(MiniLMEmbedder()), CachedEmbedder(MultilingualUSEEmbedder())]
    # telco: typos (the spelling repair) and long messages with a question in them (the focus).
    (telco,) = lab.collect(["telco"], embedders, UNSEEN_DIR)
    # collect() borrows the embedders' calibrations and must give them back.
    assert embedders[1].calibration == MultilingualUSEEmbedder.calibration
    index = build_index(embedders, load_set(UNSEEN_DIR / "telco").kb)
    assert len(telco.msgs) >= 60 and sum(q.part is not None for q in telco.msgs) >= 5
    for q in telco.msgs:
        hit = index.search(str(q.row["text"])).best
        assert hit is not None
        fused = lab.focused(lab.mean, q, telco)
        assert telco.docs[int(np.argmax(fused))] == hit.chunk.doc_id, q.row["text"]
        assert float(fused.max()) == hit.score
