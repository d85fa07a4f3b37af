"""Every admin API route (and method) is in the OpenAPI schema and in docs/ADMIN_API.md: a walk of
the server's own route table, so a route added later without its documentation fails here."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from starlette.routing import Route

from tests.harness import RunningNode

_DOC = Path(__file__).resolve().parents[3] / "docs" / "ADMIN_API.md"


def _routes(node: RunningNode) -> list[tuple[str, str]]:
    routes = node.server.config.app.routes  # type: ignore[attr-defined]
    return [
        (m, r.path)
        for r in routes
        if isinstance(r, Route) and r.path.startswith("/v1/")
        for m in sorted((r.methods or set()) - {"HEAD"})
    ]


async def test_every_route_is_in_the_openapi_schema(api: httpx.AsyncClient, node: RunningNode) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]
    routes = _routes(node)
    assert len(routes) > 40 and any(p.startswith("/v1/audience/") for _, p in routes)
    assert [(m, p) for m, p in routes if m.lower() not in paths.get(p, {})] == []


async def test_every_audience_route_is_in_admin_api_md(node: RunningNode) -> None:
    """The audience routes (issue 12, item 6): a table row of the method and path (any name for
    a path parameter)."""
    text = _DOC.read_text(encoding="utf-8")
    missing = []
    for method, path in _routes(node):
        if path.startswith("/v1/audience/"):
            pattern = re.escape(path).replace(r"\{", "{").replace(r"\}", "}")
            pattern = re.sub(r"\{[^}]+\}", r"[^ `/]+", pattern)
            # a table row: "| GET | `path` |" or "| GET / PUT / DELETE | `path` |"
            if not re.search(rf"^\|[A-Z /]*\b{method}\b[A-Z /]*\|\s*`{pattern}(?![\w/])", text, re.M):
                missing.append((method, path))
    assert missing == []
