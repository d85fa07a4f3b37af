"""The console's HTML pages and static assets, served by the node (no CDN, no separate process).

Each page is a small HTML shell (``templates/``) that loads plain ES modules from
``/console/static/`` (shipped in the Python package; no build step). A page is role-checked
here on the server, like the API it calls: without a session the browser is sent to the login
page (``303``, with ``next`` to come back), with a session lacking the page's role it gets
``403`` and a page saying so. Every page carries a Content-Security-Policy that allows
scripts, styles and connections from this origin only (and its WebSocket).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from parley.server.console.session import current
from parley.server.console_port import ConsoleRole

__all__ = ["PAGES", "console_page_routes"]

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"

#: Page → the roles that may see it (the landing order too: the first page a user may see is home).
PAGES: dict[str, tuple[str, ...]] = {
    "inbox": (ConsoleRole.AGENT.value,),
    "admin": (ConsoleRole.ADMIN.value,),
    "segments": (ConsoleRole.MARKETER.value, ConsoleRole.ADMIN.value),
    "campaigns": (ConsoleRole.MARKETER.value, ConsoleRole.ADMIN.value),
    "journeys": (ConsoleRole.MARKETER.value, ConsoleRole.ADMIN.value),
}


def _headers(request: Request) -> dict[str, str]:
    host = request.headers.get("host", "")
    ws = f"ws://{host} wss://{host}"
    return {
        "content-security-policy": (
            f"default-src 'self'; connect-src 'self' {ws}; img-src 'self' data:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        ),
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",
        "cache-control": "no-store",
    }


def _render(request: Request, template: str, status: int = 200, **values: str) -> Response:
    html = (TEMPLATES / template).read_text(encoding="utf-8")
    for key, value in values.items():
        html = html.replace("{{" + key + "}}", value)
    return HTMLResponse(html, status_code=status, headers=_headers(request))


async def login_page(request: Request) -> Response:
    """``GET /console/login``: the login form (open to everyone)."""
    return _render(request, "login.html")


async def home(request: Request) -> Response:
    """``GET /console``: to the first page the user's roles allow, or to the login page."""
    caller = await current(request)
    if caller is None:
        return RedirectResponse("/console/login", status_code=303)
    for page, roles in PAGES.items():
        if set(roles) & set(caller.user.roles):
            return RedirectResponse(f"/console/{page}", status_code=303)
    return _render(request, "forbidden.html", 403, role="agent / marketer / admin")


def _page(name: str, roles: tuple[str, ...]) -> Route:
    async def endpoint(request: Request) -> Response:
        caller = await current(request)
        if caller is None:
            return RedirectResponse(f"/console/login?next={quote(request.url.path)}", status_code=303)
        if not set(roles) & set(caller.user.roles):
            return _render(request, "forbidden.html", 403, role=" / ".join(roles))
        return _render(request, f"{name}.html")

    return Route(f"/console/{name}", endpoint)


def console_page_routes() -> list[BaseRoute]:
    """The page routes and the static assets (``/console/static``)."""
    return [
        Route("/console", home),
        Route("/console/", home),
        Route("/console/login", login_page),
        *(_page(name, roles) for name, roles in PAGES.items()),
        Mount("/console/static", StaticFiles(directory=STATIC), name="console-static"),
    ]
