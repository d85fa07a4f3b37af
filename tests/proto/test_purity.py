"""``parley.proto`` is pure: no I/O, event loop or database imports, and a pinned public surface."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import parley.proto

PROTO = Path(__file__).resolve().parents[2] / "proto"

#: Top-level modules that ``parley.proto`` must never import, directly or transitively.
FORBIDDEN = frozenset(
    {
        "asyncio",
        "socket",
        "ssl",
        "selectors",
        "websockets",
        "redis",
        "pymongo",
        "motor",
        "sqlite3",
        "starlette",
        "uvicorn",
        "httpx",
        "anyio",
        "trio",
    }
)
FORBIDDEN_PARLEY = ("parley.server", "parley.sdk", "parley.bots")

EXPECTED_ALL = [
    "DEFAULT_MAX_FRAME",
    "MAX_DEPTH",
    "PROTOCOL_VERSION",
    "SUPPORTED_VERSIONS",
    "Action",
    "Backoff",
    "ClientDecoder",
    "CloseCode",
    "ErrorCode",
    "FrameError",
    "ProtocolError",
    "ServerDecoder",
    "StreamTracker",
    "Verdict",
    "action_for",
    "encode",
    "validate_body",
]


def _imports(path: Path) -> set[str]:
    """Absolute module names imported by one source file (relative imports resolved)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = ["parley", "proto"][: max(0, 3 - node.level)]
                found.add(".".join([*package, node.module or ""]).rstrip("."))
            else:
                found.add(node.module or "")
    return found


SOURCES = sorted(PROTO.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_forbidden_import_in_source(path: Path) -> None:
    for name in _imports(path):
        assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
        assert not name.startswith(FORBIDDEN_PARLEY), f"{path.name} imports {name}"


def test_no_forbidden_module_is_loaded_transitively() -> None:
    """Import ``parley.proto`` in a fresh interpreter and look at everything it pulled in."""
    code = "import sys, parley.proto; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(out.split())
    assert "parley.proto.codec" in loaded
    bad = {m for m in loaded if m.split(".")[0] in FORBIDDEN or m.startswith(FORBIDDEN_PARLEY)}
    assert not bad


def test_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import asyncio\nfrom ..server import app\nfrom socket import socket\n")
    assert {"asyncio", "parley.server", "socket"} <= _imports(bad)


def test_public_surface_is_pinned() -> None:
    assert parley.proto.__all__ == EXPECTED_ALL
    for name in EXPECTED_ALL:
        assert hasattr(parley.proto, name), name


def test_module_all_lists_name_only_what_exists() -> None:
    import importlib

    for path in SOURCES:
        if path.name == "__init__.py":
            continue
        module = importlib.import_module(f"parley.proto.{path.stem}")
        assert hasattr(module, "__all__"), path.name
        for name in module.__all__:
            assert hasattr(module, name), f"{path.stem}.{name}"
