"""``scripts/docstrings.py`` counts public names and their docstrings as its docstring says."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docstrings", ROOT / "scripts" / "docstrings.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _write(root: Path, relative: str, source: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), "utf-8")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small checkout: every case the rules name, with a known answer."""
    _write(tmp_path, "server/__init__.py", '"""Documented package."""\n')
    _write(
        tmp_path,
        "server/node.py",
        '''
        """Documented module."""

        class Node:
            """Documented class."""

            def start(self) -> None:
                """Documented method."""

            async def stop(self) -> None:
                pass

            def _private(self) -> None:
                pass

            def __init__(self) -> None:
                pass

            @property
            def ready(self) -> bool:
                return True

            class Inner:
                pass

        class _Hidden:
            def visible_but_private_class(self) -> None:
                pass

        def build() -> Node:
            def nested() -> None:
                pass
            return Node()

        async def _helper() -> None:
            pass

        CONSTANT = 1
        ''',
    )
    # undocumented module, one documented function
    _write(tmp_path, "server/gateway/hub.py", 'def fan_out() -> None:\n    """Documented."""\n')
    _write(tmp_path, "server/_internal.py", "def anything() -> None:\n    pass\n")
    _write(tmp_path, "server/_impl/mod.py", "def anything() -> None:\n    pass\n")
    _write(tmp_path, "server/tests/test_x.py", "def test_a() -> None:\n    pass\n")
    _write(tmp_path, "server/test_y.py", "def test_b() -> None:\n    pass\n")
    _write(tmp_path, "sdk/client.py", '"""Doc."""\n\nclass Client:\n    """Doc."""\n')
    _write(tmp_path, "elsewhere/x.py", "def f() -> None:\n    pass\n")
    return tmp_path


def test_counts_public_names_with_and_without_docstrings(tree: Path) -> None:
    tallies = _script().count(tree)
    server = tallies["server"]
    listed = {(n.path, n.qualname): n.documented for n in server.names}
    assert listed == {
        ("server/__init__.py", "<module>"): True,
        ("server/node.py", "<module>"): True,
        ("server/node.py", "Node"): True,
        ("server/node.py", "Node.start"): True,
        ("server/node.py", "Node.stop"): False,
        ("server/node.py", "Node.ready"): False,
        ("server/node.py", "Node.Inner"): False,
        ("server/node.py", "build"): False,
        ("server/gateway/hub.py", "<module>"): False,
        ("server/gateway/hub.py", "fan_out"): True,
    }
    assert (server.total, server.documented) == (10, 5)
    assert server.ratio == 0.5
    assert (tallies["sdk"].total, tallies["sdk"].documented) == (2, 2)
    assert tallies["proto"].total == 0 and tallies["proto"].ratio == 1.0  # absent: nothing to document
    assert set(tallies) == {"proto", "server", "sdk", "bots"}


def test_min_server_sets_the_exit_status(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = _script()
    assert script.main(["--root", str(tree)]) == 0
    assert script.main(["--root", str(tree), "--min-server", "0.5"]) == 0
    assert script.main(["--root", str(tree), "--min-server", "0.51"]) == 1
    out = capsys.readouterr()
    assert "server        10          5  50.0%" in out.out
    assert "at least 51%" in out.err


def test_missing_lists_every_undocumented_name(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _script().main(["--root", str(tree), "--missing"])
    listed = [line for line in capsys.readouterr().out.splitlines() if ".py:" in line]
    assert listed == [
        "server/gateway/hub.py:1 <module>",
        "server/node.py:10 Node.stop",
        "server/node.py:20 Node.ready",
        "server/node.py:23 Node.Inner",
        "server/node.py:30 build",
    ]
