"""``scripts/gen_web_schema.py``: the browser client's frame table follows ``proto/`` exactly."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import typing
from pathlib import Path
from types import ModuleType

import pytest
from msgspec import inspect as mi

from parley.proto import frames as f

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_web_schema", ROOT / "scripts" / "gen_web_schema.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _table(text: str, name: str) -> dict[str, list[list[object]]]:
    match = re.search(rf"^export const {name} = (.*);$", text, re.M)
    assert match, name
    table: dict[str, list[list[object]]] = json.loads(match.group(1))
    return table


def test_committed_schema_is_current() -> None:
    assert _script().main(["--check"]) == 0


def test_every_frame_and_field_in_wire_order() -> None:
    text = _script().render()
    for union, name in ((f.ClientFrame, "CLIENT_FRAMES"), (f.ServerFrame, "SERVER_FRAMES")):
        table = _table(text, name)
        expected = {}
        for cls in typing.get_args(union):
            info = mi.type_info(cls)
            assert isinstance(info, mi.StructType)
            expected[info.tag] = [(x.encode_name, x.required) for x in info.fields]
        assert {t: [(n, r) for n, _type, r, _d in fields] for t, fields in table.items()} == expected


def test_bounds_and_defaults_are_carried() -> None:
    history = _table(_script().render(), "CLIENT_FRAMES")["history"]
    fields = {name: (desc, default) for name, desc, _req, default in history}
    assert fields["limit"] == (["bound", "int", {"ge": 1, "le": 500}], 50)
    assert fields["before"][0] == ["opt", ["bound", "int", {"ge": 0, "le": 2**53}]]


def test_check_fails_on_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = _script()
    stale = tmp_path / "schema.js"
    stale.write_text(module.render().replace('"limit"', '"limits"', 1), "utf-8")
    monkeypatch.setattr(module, "OUT", stale)
    assert module.main(["--check"]) == 1
    module.main([])
    assert module.main(["--check"]) == 0


def test_error_actions_agree_with_the_table() -> None:
    """The client's rule (listed code → its action, anything else → fatal) is the server's table."""
    from parley.proto.errors import ErrorCode, action_for

    listed = json.loads(re.search(r"^export const ERROR_ACTIONS = (.*);$", _script().render(), re.M).group(1))  # type: ignore[union-attr]
    for code in ErrorCode:
        assert listed.get(code.value, "fatal") == action_for(code.value).value, code
    assert set(listed.values()) <= {"retry", "reconnect"}
