"""The web console at ``/console``: pages and their JSON API, served by the node itself.

* :mod:`.session` — the session cookie, the CSRF check and the role check every route passes.
* :mod:`.api` — ``/console/api/...`` (login, logout, me, the agent's WebSocket token, the inbox's reads).
* :mod:`.pages` — the HTML pages (role-checked on the server) and the static assets in ``static/``
  (plain ES modules, no build step, nothing fetched from elsewhere).

Like the admin API it is an edge: it calls services (``Services.console``, ``Services.support``),
never the store or broker adapters (``.importlinter``). See ``docs/CONSOLE.md``.
"""
