"""The import contracts (``.importlinter``, run by ``scripts/check``) hold, and a broken one fails.

The layering rules of docs/ARCHITECTURE.md are checked on the code, not only written down:
proto is pure; the SDK never imports the server or the bots; the bots are clients; services
never import adapters, the gateway, the admin API or I/O libraries; the gateway and the admin
API never import adapters; only the composition root (``node``, the CLI) imports the adapter
packages.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
LINT = str(Path(sys.executable).parent / "lint-imports")
#: The composition root: the only modules outside the adapters that may import them.
COMPOSITION_ROOT = {"parley.server.node", "parley.server.cli", "parley.server.cli_console"}
ADAPTERS = ("parley.server.store", "parley.server.broker")
#: Modules that hold the running node: the gateway imports none of them.
ROOT_MODULES = {"parley.server.node", "parley.server.app", "parley.server.serve"}


def _lint(root: Path, config: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [LINT, "--config", str(config), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=300,
    )


def test_the_contracts_hold() -> None:
    run = _lint(ROOT, ROOT / ".importlinter")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "BROKEN" not in run.stdout and "0 broken" in run.stdout


def test_only_the_composition_root_imports_the_adapters() -> None:
    graph = grimp.build_graph("parley.server")
    importers: set[str] = set()
    for adapter in ADAPTERS:
        for module in graph.find_descendants(adapter) | {adapter}:
            importers |= graph.find_modules_that_directly_import(module)
    outside = {m for m in importers if not m.startswith(ADAPTERS)} - COMPOSITION_ROOT
    assert not outside, f"adapters imported outside the composition root: {sorted(outside)}"


def test_a_broken_contract_fails_the_check(tmp_path: Path) -> None:
    """A copy of the packages where proto imports asyncio: the check must fail and say which rule."""
    tree = tmp_path / "parley"
    tree.mkdir()
    for package in ("server", "sdk", "bots"):
        (tree / package).symlink_to(ROOT / package)
    shutil.copytree(ROOT / "proto", tree / "proto", ignore=shutil.ignore_patterns("__pycache__"))
    codec = tree / "proto" / "codec.py"
    codec.write_text(codec.read_text() + "\nimport asyncio  # broken on purpose\n")
    run = _lint(tmp_path, ROOT / ".importlinter", pythonpath=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "proto imports nothing of ours and no I/O BROKEN" in run.stdout
    assert "parley.proto.codec -> asyncio" in run.stdout


def test_a_service_counting_with_prometheus_fails_the_check(tmp_path: Path) -> None:
    """Counting is the gateway's (``gateway/fanout.py``): a service importing the metrics breaks
    the services' contract."""
    tree = tmp_path / "parley"
    tree.mkdir()
    for package in ("proto", "sdk", "bots"):
        (tree / package).symlink_to(ROOT / package)
    shutil.copytree(ROOT / "server", tree / "server", ignore=shutil.ignore_patterns("__pycache__"))
    service = tree / "server" / "services" / "history.py"
    service.write_text(service.read_text() + "\nimport prometheus_client  # broken on purpose\n")
    run = _lint(tmp_path, ROOT / ".importlinter", pythonpath=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "services never import adapters, gateway, admin or I/O libraries BROKEN" in run.stdout
    assert "parley.server.services.history -> prometheus_client" in run.stdout


def test_the_gateway_never_reaches_the_node() -> None:
    """Only the composition root knows the Node: no gateway module imports it or the app that
    holds it — not even under ``TYPE_CHECKING`` (which the linter's contracts ignore). The
    per-connection objects get a ``GatewayContext`` instead."""
    offenders = []
    for path in sorted((ROOT / "server" / "gateway").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in ROOT_MODULES:
                offenders.append(f"{path.name}: from {node.module}")
            elif isinstance(node, ast.Import):
                offenders += [f"{path.name}: import {a.name}" for a in node.names if a.name in ROOT_MODULES]
    assert not offenders, offenders
