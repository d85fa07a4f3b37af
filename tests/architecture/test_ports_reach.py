"""Only the services use the store ports: the gateway and the admin API call services.

``Services`` does not hand out the store, and no gateway or admin module reaches for one
(an attribute called ``store``, or an import of a store port), so authorisation and business
rules live in the services alone (docs/ARCHITECTURE.md, "Ports").
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from parley.server.services import Services

ROOT = Path(__file__).resolve().parents[2]
EDGES = ("server/gateway", "server/admin", "server/console")
#: Modules whose names are store ports (the broker port is the gateway's to use: fan-out).
STORE_PORT_MODULES = {
    "parley.server.ports",
    "parley.server.safety_port",
    "parley.server.store_ports",
    "parley.server.console_port",
}
BROKER_SIDE = {
    "Broker",
    "BrokerUnavailable",
    "MessageHandler",
    "GapHandler",
    "DownHandler",
    "StoreUnavailable",
    # records and vocabulary the console's edge shows, not the ConsoleStore port
    "ConsoleRole",
    "ConsoleSession",
    "ConsoleUser",
}


def _edge_modules() -> list[Path]:
    return sorted(p for edge in EDGES for p in (ROOT / edge).rglob("*.py"))


def test_services_do_not_expose_the_store() -> None:
    names = {f.name for f in dataclasses.fields(Services)}
    assert "store" not in names
    ported = {f.name for f in dataclasses.fields(Services) if "Store" in str(f.type)}
    assert not ported, f"Services fields typed as a store port: {sorted(ported)}"


def test_edges_never_touch_a_store_port() -> None:
    found: list[str] = []
    for path in _edge_modules():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {"store", "_store"}:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
            elif isinstance(node, ast.ImportFrom) and node.module in STORE_PORT_MODULES:
                for alias in node.names:
                    if alias.name not in BROKER_SIDE:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {alias.name}")
    assert not found, "the gateway/admin reach a store port; add a service method:\n" + "\n".join(found)
