"""docs/PROTOCOL.md stays true to proto/: generated tables current, every code and frame described."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from parley.proto.errors import CloseCode, ErrorCode, action_for
from tests.proto.strategies import CLIENT_TAGS, CLIENT_TYPES, SERVER_TAGS, SERVER_TYPES

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "PROTOCOL.md").read_text("utf-8")


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "gen_protocol_tables", ROOT / "scripts" / "gen_protocol_tables.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_field_tables_are_current() -> None:
    assert _generator().render(DOC) == DOC, "run scripts/gen_protocol_tables.py"


def test_every_frame_and_record_has_a_table() -> None:
    tabled = set(re.findall(r"<!-- fields:(\w+) -->", DOC))
    structs = {c.__name__ for c in (*CLIENT_TYPES, *SERVER_TYPES)}
    assert structs <= tabled
    assert {"Message", "Position", "SyncState", "ConvInfo", "ConvSummary", "MemberInfo"} <= tabled
    for tag in CLIENT_TAGS | SERVER_TAGS:
        assert f"#### {tag}\n" in DOC, tag


def test_every_error_code_is_documented_with_its_action() -> None:
    for code in ErrorCode:
        row = re.search(rf"^\| `{code.value}` \| (\w+) \|", DOC, re.M)
        assert row, code
        assert row.group(1) == action_for(code.value).value, code


def test_every_close_code_is_documented() -> None:
    for code in CloseCode:
        row = re.search(rf"^\| {int(code)} \| `{code.name}` \| (yes|no)", DOC, re.M)
        assert row, code
        assert (row.group(1) == "yes") is code.reconnect, code
