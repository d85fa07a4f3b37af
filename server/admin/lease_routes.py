"""Admin API for named leases (``/v1/leases/{name}``): several processes of one app agree which
one is active (the support bot: of two bot processes one answers, the other stands by). Each asks
``PUT`` every few seconds with its own holder id; the holder renews, the others learn who holds it,
and the first to ask after the holder stopped renewing takes over (docs/ADMIN_API.md "Leases";
the guarantees are :mod:`parley.server.lease_port`'s).

Deliberately **not audited**: a holder renews every few seconds, so the audit log would fill with
renewals and hide the changes people look for, and a lease changes no data, only which process
should work. The handlers say so with :func:`~parley.server.admin.routes.mark_audited`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parley.proto.errors import ErrorCode
from parley.server.admin.lease_schemas import LeaseAcquire, lease_out
from parley.server.admin.problems import problem
from parley.server.admin.routes import json_response, mark_audited, parse_body, with_app
from parley.server.models import App
from parley.server.services import Services

__all__ = ["lease_routes"]


async def acquire_lease(request: Request, s: Services, app: App) -> Response:
    """``PUT /v1/leases/{name}``: take or renew the lease for ``holder``; 200 and the lease as it is
    now, ``held`` true if the requester holds it; 422 ``lease_invalid``. Not audited."""
    mark_audited(request)
    body = await parse_body(request, LeaseAcquire)
    lease = await s.leases.acquire(app.app, request.path_params["name"], body.holder, body.ttl_s)
    return json_response(lease_out(lease, body.holder))


async def get_lease(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/leases/{name}``: who holds the lease (``held`` false); 404 ``lease_not_found`` if
    nobody does (never taken, released or expired)."""
    return json_response(lease_out(await s.leases.get(app.app, request.path_params["name"])))


async def release_lease(request: Request, s: Services, app: App) -> Response:
    """``DELETE /v1/leases/{name}?holder=``: 204 once released; 409 ``lease_not_held`` if ``holder``
    does not hold it (nothing changed); 422 ``lease_invalid``. Not audited."""
    mark_audited(request)
    name, holder = request.path_params["name"], request.query_params.get("holder", "")
    if not await s.leases.release(app.app, name, holder):
        return problem(ErrorCode.LEASE_NOT_HELD, f"{holder!r} does not hold the lease {name!r}")
    return Response(status_code=204)


def lease_routes() -> list[BaseRoute]:
    """The routes, each behind the app's API key."""
    return [
        Route("/v1/leases/{name}", with_app(acquire_lease), methods=["PUT"]),
        Route("/v1/leases/{name}", with_app(get_lease)),
        Route("/v1/leases/{name}", with_app(release_lease), methods=["DELETE"]),
    ]
