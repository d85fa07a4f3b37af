"""The ``parley`` command's entry point: a clear message when the server extra is missing.

``pip install parley`` installs the SDK only (msgspec, websockets, httpx); the command
needs the ``server`` extra (click, starlette, uvicorn, ...). Without it, importing the CLI
would die with a bare ``ModuleNotFoundError``; this says in one line what to install.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

INSTALL_HINT = "pip install 'parley[server]'"


def main() -> None:
    """Run the ``parley`` CLI, or exit 1 naming the extra to install."""
    try:
        from parley.server.cli import main as cli_main
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] == "parley":
            raise  # our own module is missing: a broken install, not a missing extra
        sys.exit(f"parley: this command needs the server extra ({exc.name} is not installed): {INSTALL_HINT}")
    cli_main()
