from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from parley.bots.knowledge import KnowledgeFormatError, chunk_document, load_directory, parse_bytes
from parley.bots.knowledge.documents import (
    Document,
    parse_faq_csv,
    parse_faq_jsonl,
    parse_markdown,
    parse_text,
)
from parley.bots.knowledge.eval import KB_DIR


def test_markdown_sections_with_anchors_and_slugs():
    md = (
        "# Guide\n\nOpen daily 9 to 6.\n\nClosed on public holidays.\n\n## Returns {#ret}\n\nThirty days.\n\n"
        "### Sale items\n\nFinal sale only.\n"
    )
    docs = parse_markdown(md, source="guide.md")
    assert [(d.id, d.title) for d in docs] == [
        ("guide#intro", "Guide"),
        ("ret", "Returns"),
        ("guide#sale-items", "Sale items"),
    ]
    assert docs[1].text == "Thirty days." and docs[1].kind == "markdown"


def test_a_one_line_summary_before_the_sections_is_not_an_entry():
    """Session 18: "Returns, exchanges and sale items." names every section and answers none."""
    md = "# Guide\n\nReturns, exchanges and sale items.\n\n## Returns {#ret}\n\nThirty days.\n"
    assert [d.id for d in parse_markdown(md, source="guide.md")] == ["ret"]
    long_intro = (
        "# Guide\n\n" + "Opening hours are 9 to 6 every day. " * 10 + "\n\n## Returns\n\nThirty days.\n"
    )
    assert [d.id for d in parse_markdown(long_intro, source="guide.md")] == ["guide#intro", "guide#returns"]
    (only,) = parse_markdown("# Care\n\nWash cold.\n", source="care.md")
    assert (only.id, only.text) == ("care#intro", "Wash cold."), "a file with no sections keeps its text"


def test_faq_csv_and_jsonl():
    csv_docs = parse_faq_csv('id,question,answer\nq1,"How, exactly?",Like this.\n', source="f.csv")
    assert csv_docs[0].id == "q1" and csv_docs[0].question == "How, exactly?" and csv_docs[0].lang == "en"
    jl = parse_faq_jsonl('{"question": "运费多少", "answer": "满299包邮"}\n\n', source="f.jsonl")
    assert jl[0].id == "f#1" and jl[0].lang == "zh" and jl[0].kind == "faq"


def test_plain_text_title_is_first_line():
    (doc,) = parse_text("Care\n\nWash cold.\n", source="care.txt")
    assert (doc.id, doc.title, doc.text) == ("care", "Care", "Wash cold.")


@pytest.mark.parametrize(
    ("data", "source", "message"),
    [
        (b"", "empty.md", "no content"),
        (b"   \n", "blank.txt", "no content"),
        ("退货".encode("gbk"), "gbk.txt", "not UTF-8"),
        (b"q,a\nx,y\n", "bad.csv", "question and answer"),
        (b'{"question": "x"}\n', "bad.jsonl", "question and an answer"),
        (b"{not json\n", "bad.jsonl", "not valid JSON"),
        (b"x", "file.pdf", "unsupported"),
        (b"id,question,answer\na,q,x\na,q2,y\n", "dup.csv", "duplicate"),
    ],
)
def test_bad_files_are_refused_whole(data, source, message):
    with pytest.raises(KnowledgeFormatError, match=message):
        parse_bytes(data, source=source)


def test_example_kb_is_bilingual_and_ids_unique():
    docs = load_directory(KB_DIR)
    ids = [d.id for d in docs]
    assert len(ids) == len(set(ids)) >= 35
    assert {d.lang for d in docs} >= {"en", "zh"}
    assert {d.kind for d in docs} == {"faq", "markdown", "text"}
    assert {p.suffix for p in Path(KB_DIR).iterdir()} >= {".md", ".csv", ".jsonl", ".txt"}


def test_chunks_overlap_and_cover_the_text():
    text = " ".join(f"Sentence number {i} says something useful." for i in range(40))
    doc = Document(id="d", title="T", text=text, kind="text")
    chunks = chunk_document(doc, size=200, overlap=50)
    assert len(chunks) > 5 and all(len(c.text) <= 200 for c in chunks)
    for a, b in itertools.pairwise(chunks):
        assert b.start < a.start + len(a.text), "consecutive chunks must overlap"
        assert text[b.start : a.start + len(a.text)].strip() in a.text
        assert b.text.startswith("Sentence"), "overlap snaps to a sentence start"
    assert chunks[-1].text.endswith("useful.")
    assert [c.id for c in chunks[:2]] == ["d::0", "d::1"]


def test_faq_is_never_split():
    doc = Document(id="f", title="Q?", text="A. " * 400, kind="faq", question="Q?")
    assert len(chunk_document(doc, size=100, overlap=20)) == 1


def test_load_directory_reads_subfolders(tmp_path: Path) -> None:
    (tmp_path / "guides").mkdir()
    (tmp_path / "faq.csv").write_text("id,question,answer\nq1,Hi?,Hello.\n", encoding="utf-8")
    (tmp_path / "guides" / "g.md").write_text("# G\n\n## Part {#g1}\n\nText.\n", encoding="utf-8")
    assert {d.id for d in load_directory(tmp_path)} == {"q1", "g1"}
