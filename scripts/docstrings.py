#!/usr/bin/env python
"""Count the public names of each package that have a docstring (issue 11, item 6).

Usage: ``python scripts/docstrings.py [--root DIR] [--missing] [--min-server RATIO]``

A public name is a module (``__init__.py`` counts as its package's module), or a class,
function or method whose name does not start with ``_``, defined at module level or in a
public class (functions nested in functions are implementation detail and not counted).
Nothing inside a private module (``_name.py``) or a private class counts, nor anything in a
``tests`` directory or a ``test_*.py`` file. The source is read with :mod:`ast`; nothing is
imported, so the count cannot be changed by what importing a module does.

Prints one row per package (proto, server, sdk, bots): public names, documented, ratio.
``--missing`` also lists each undocumented name as ``path:line name``. With
``--min-server RATIO`` the exit status is 1 when server's ratio is below ``RATIO``.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("proto", "server", "sdk", "bots")
ROOT = Path(__file__).resolve().parent.parent

Definition = ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True, slots=True)
class Name:
    """One public name: where it is defined and whether it has a docstring."""

    path: str
    line: int
    qualname: str
    documented: bool


@dataclass(slots=True)
class Tally:
    """The public names of one package."""

    names: list[Name] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many public names there are."""
        return len(self.names)

    @property
    def documented(self) -> int:
        """How many of them have a docstring."""
        return sum(1 for n in self.names if n.documented)

    @property
    def ratio(self) -> float:
        """Documented over total (1.0 for a package without public names)."""
        return self.documented / self.total if self.total else 1.0


def _is_public(name: str) -> bool:
    return not name.startswith("_")


def _counted_file(path: Path, package_dir: Path) -> bool:
    parts = path.relative_to(package_dir).parts
    if any(p == "tests" for p in parts[:-1]) or parts[-1].startswith("test_"):
        return False
    if any(not _is_public(p) for p in parts[:-1]):
        return False
    return parts[-1] == "__init__.py" or _is_public(parts[-1])


def _definitions(body: Sequence[ast.stmt], prefix: str) -> Iterator[tuple[str, Definition]]:
    """Public classes and functions of a module or class body, and the members of public classes."""
    for node in body:
        if not isinstance(node, Definition) or not _is_public(node.name):
            continue
        qualname = f"{prefix}{node.name}"
        yield qualname, node
        if isinstance(node, ast.ClassDef):
            yield from _definitions(node.body, f"{qualname}.")


def names_in(path: Path, shown_as: str) -> list[Name]:
    """The public names defined in one source file (the module itself first)."""
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    found = [Name(shown_as, 1, "<module>", ast.get_docstring(tree) is not None)]
    for qualname, node in _definitions(tree.body, ""):
        found.append(Name(shown_as, node.lineno, qualname, ast.get_docstring(node) is not None))
    return found


def count(root: Path, packages: Sequence[str] = PACKAGES) -> dict[str, Tally]:
    """A tally per package directory under ``root`` (an absent package has no names)."""
    tallies: dict[str, Tally] = {}
    for package in packages:
        tally = tallies[package] = Tally()
        package_dir = root / package
        for path in sorted(package_dir.rglob("*.py")):
            if _counted_file(path, package_dir):
                tally.names += names_in(path, path.relative_to(root).as_posix())
    return tallies


def render(tallies: dict[str, Tally]) -> str:
    """The table printed by ``main``."""
    lines = [f"{'package':<8} {'public':>7} {'documented':>10} {'ratio':>6}"]
    for package, tally in tallies.items():
        lines.append(f"{package:<8} {tally.total:>7} {tally.documented:>10} {tally.ratio:>6.1%}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table; 1 if ``--min-server`` is given and server's ratio is below it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to count (default: this one)")
    parser.add_argument("--missing", action="store_true", help="list every undocumented public name")
    parser.add_argument("--min-server", type=float, default=None, metavar="RATIO")
    args = parser.parse_args(argv)
    tallies = count(args.root)
    print(render(tallies))
    if args.missing:
        for tally in tallies.values():
            for name in tally.names:
                if not name.documented:
                    print(f"{name.path}:{name.line} {name.qualname}")
    if args.min_server is not None and tallies["server"].ratio < args.min_server:
        print(
            f"server: {tallies['server'].ratio:.1%} of public names have a docstring; "
            f"at least {args.min_server:.0%} is required",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
