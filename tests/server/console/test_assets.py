"""The console's assets ship in the Python package and fetch nothing from elsewhere (no CDN)."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CONSOLE = ROOT / "server" / "console"
#: An absolute URL where a page would load something: src/href/import/url().
FETCH = re.compile(
    r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|from\s+["'](?:https?:)?//|import\(\s*["'](?:https?:)?//|url\(\s*["']?(?:https?:)?//"""
)


def _assets() -> list[Path]:
    return sorted(p for d in ("static", "templates") for p in (CONSOLE / d).rglob("*") if p.is_file())


def test_every_asset_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["parley.server.console"]
    assert "parley.server.console" in config["tool"]["setuptools"]["packages"]
    missing = [
        str(p.relative_to(CONSOLE))
        for p in _assets()
        if not any(fnmatch.fnmatch(str(p.relative_to(CONSOLE)), g) for g in globs)
    ]
    assert _assets() and not missing, f"not in package data: {missing}"


def test_no_asset_loads_anything_from_another_host() -> None:
    found = [
        f"{p.relative_to(ROOT)}: {m.group()}"
        for p in _assets()
        if p.suffix in {".html", ".js", ".css"}
        for m in FETCH.finditer(p.read_text("utf-8"))
    ]
    assert not found, "the console must not fetch from a CDN or any other host:\\n" + "\\n".join(found)
