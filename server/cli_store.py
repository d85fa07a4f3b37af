"""The store options every ``parley`` command that opens the store shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

__all__ = ["store_options"]

_store_options = [
    click.option(
        "--sqlite-path",
        envvar="PARLEY_SQLITE_PATH",
        default="parley.db",
        show_default=True,
        help="SQLite file of the embedded store.",
    ),
    click.option(
        "--mongo-url", envvar="PARLEY_MONGO_URL", default=None, help="Use MongoDB instead of SQLite."
    ),
    click.option("--mongo-database", envvar="PARLEY_MONGO_DATABASE", default="parley", show_default=True),
]


def store_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add the store options (``--sqlite-path``, ``--mongo-url``, ``--mongo-database``) to a command."""
    for option in reversed(_store_options):
        f = option(f)
    return f
