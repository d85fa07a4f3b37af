"""``loadtests.translate_sets``: the product's ``ingest --translate`` path over evaluation sets,
against the deterministic OpenAI-compatible stub (no llama.cpp in CI).

The real sets are copied to a temporary root; a holdout is a development set marked as one (the
real holdouts are never opened by a test).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from loadtests.translate_sets import main, output_name
from parley.bots.evalsets import UNSEEN_DIR, kb_chunks, load_translations
from parley.bots.translate import target_language
from tests.bots.llm_stub import LLMStub, Reply, running_stub


def _copy(root: Path, name: str, *, holdout: bool = False) -> Path:
    dest = root / name
    shutil.copytree(UNSEEN_DIR / name / "kb", dest / "kb")
    meta = json.loads((UNSEEN_DIR / name / "set.json").read_text(encoding="utf-8"))
    (dest / "set.json").write_text(json.dumps({**meta, "holdout": holdout}), encoding="utf-8")
    return dest


def _tagged(req: dict[str, Any]) -> Reply:
    """A "translation" that names its source's first line, so each row can be traced to its chunk."""
    return Reply(text="TR " + str(req["messages"][-1]["content"]).splitlines()[0])


def _args(stub: LLMStub, root: Path, *extra: str) -> list[str]:
    return ["--llm-url", stub.base_url, "--model", "stub-model", "--root", str(root), *extra]


def test_every_chunk_is_translated_through_the_product_path_and_written_per_chunk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _copy(tmp_path, "card")
    chunks = kb_chunks(folder / "kb")
    with running_stub() as stub:
        stub.default = _tagged
        assert main(_args(stub, tmp_path, "--tag", "stub model/1")) == 0
        sent = list(stub.requests)
    # the product's prompt (parley.bots.translate), one request per chunk, into the other language
    assert len(sent) == sum(1 for c in chunks if target_language(c)) > 0
    assert all(r["messages"][0]["content"].startswith("Translate the customer-service text") for r in sent)
    assert sum("into English" in r["messages"][0]["content"] for r in sent) == sum(
        c.lang == "zh" for c in chunks
    )
    out = folder / output_name("stub model/1")
    assert out.name == "translations.stub-model-1.jsonl"
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    by_chunk = {c.id: c for c in chunks}
    assert len(rows) == len(sent)
    for row in rows:
        c = by_chunk[row["chunk"]]
        assert row["doc_id"] == c.doc_id
        assert row["translation"] == "TR " + (c.question or c.title or c.text).splitlines()[0]
    assert set(load_translations(out)) == {r["chunk"] for r in rows}
    report = capsys.readouterr().out
    assert f"card (development): {len(rows)}/{len(rows)} chunks translated" in report
    assert "s/chunk" in report


def test_a_holdout_is_refused_without_the_flag_and_never_shown_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _copy(tmp_path, "card")
    hidden = _copy(tmp_path, "travel", holdout=True)
    name = output_name("stub-model")
    with running_stub() as stub:
        stub.default = _tagged
        with pytest.raises(SystemExit) as refused:
            main(_args(stub, tmp_path, "--sets", "card,travel"))
        assert refused.value.code == 2 and not stub.requests
        assert "travel" in capsys.readouterr().err
        assert not (tmp_path / "card" / name).exists(), "nothing is translated when one set is refused"

        # by default only the development sets are translated
        assert main(_args(stub, tmp_path)) == 0
        assert (tmp_path / "card" / name).exists() and not (hidden / name).exists()
        capsys.readouterr()

        # with the flag: translated, but one chunk's failure is counted, not logged with its id
        stub.reset()
        first = kb_chunks(hidden / "kb")[0]
        stub.default = lambda req: (
            Reply(status=400)
            if first.text[:30] in str(req["messages"][-1]["content"])
            else Reply(text="TR " + str(req["messages"][-1]["content"])[:20])
        )
        assert main(_args(stub, tmp_path, "--sets", "travel", "--holdout-ok")) == 0
    seen = capsys.readouterr()
    rows = (hidden / name).read_text(encoding="utf-8").splitlines()
    assert "travel (holdout):" in seen.out and "1 failed" in seen.out
    shown = seen.out + seen.err
    assert first.doc_id not in shown and "TR " not in shown
    for chunk in kb_chunks(hidden / "kb"):
        assert chunk.text[:20] not in shown
    assert len(rows) == sum(1 for c in kb_chunks(hidden / "kb") if target_language(c)) - 1


def test_an_unreachable_model_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _copy(tmp_path, "card")
    with running_stub() as stub:
        url = stub.base_url
    assert main(["--llm-url", url, "--model", "m", "--root", str(tmp_path), "--timeout", "2"]) == 1
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "card" / output_name("m")).exists()
