"""The router and its handler tables get the routed services only, never the whole ``Services``.

What a client frame can reach is :class:`~parley.server.gateway.route_services.RouteServices`
(issue 11, item 3: each part gets exactly what it needs); mypy proves the handlers use nothing
else, and this test keeps the whole ``Services`` object out of the routing modules.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from parley.server.gateway.route_services import RouteServices
from parley.server.services import Services

ROOT = Path(__file__).resolve().parents[2]
#: The modules that build or are the router's handler tables.
ROUTING = ["router.py", *sorted(p.name for p in (ROOT / "server" / "gateway").glob("*_routes.py"))]


def test_no_routing_module_takes_the_whole_services() -> None:
    offenders = []
    for name in ROUTING:
        tree = ast.parse((ROOT / "server" / "gateway" / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "parley.server.services":
                offenders += [f"{name}: imports {a.name}" for a in node.names if a.name == "Services"]
    assert not offenders, offenders


def test_the_routed_services_leave_out_what_frames_must_not_reach() -> None:
    routed = {f.name for f in dataclasses.fields(RouteServices)}
    assert routed < {f.name for f in dataclasses.fields(Services)}
    # Token checks, the app directory and keys, moderation, the console and marketing are the
    # node's and the admin API's: no client frame is routed to them.
    assert not routed & {"tokens", "apps", "moderation", "console", "campaigns", "segments", "knowledge"}


def test_the_node_hands_the_router_its_routed_services() -> None:
    source = (ROOT / "server" / "node.py").read_text()
    assert "RouteServices.of(self.services)" in source
