"""``parley``: run the server and manage apps, users and tokens from the shell.

The only place that reads the environment: options fall back to ``PARLEY_*``
variables, and the result is one frozen :class:`Settings` passed down.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from parley.proto.vocabulary import UserRole
from parley.server.cli_console import console_user
from parley.server.cli_limits import limit_options
from parley.server.cli_store import store_options
from parley.server.errors import ServiceError
from parley.server.logs import configure_logging
from parley.server.ports import StoreUnavailable
from parley.server.services.apps import AppService
from parley.server.settings import Settings
from parley.server.store import open_store

__all__ = ["main", "store_options"]

T = TypeVar("T")


def _with_apps(
    sqlite_path: str, mongo_url: str | None, mongo_database: str, work: Callable[[AppService], Awaitable[T]]
) -> T:
    async def run() -> T:
        store = open_store(mongo_url, sqlite_path=sqlite_path, mongo_database=mongo_database)
        await store.open()
        try:
            return await work(AppService(store, audience="parley"))
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    except StoreUnavailable as exc:
        raise click.ClickException(f"the store is unavailable: {exc}") from None


@click.group()
@click.version_option(package_name="parley")
def main() -> None:
    """Parley: self-hosted chat with an AI bot and marketing built in."""


@main.command()
@click.option("--host", envvar="PARLEY_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="PARLEY_PORT", default=8700, show_default=True, type=int)
@store_options
@click.option(
    "--redis-url",
    envvar="PARLEY_REDIS_URL",
    default=None,
    help="Fan out through Redis (several nodes). Default: in-process broker.",
)
@click.option("--node-id", envvar="PARLEY_NODE_ID", default=None, help="Name of this node (default: random).")
@click.option("--max-frame", envvar="PARLEY_MAX_FRAME", default=65536, show_default=True, type=int)
@click.option("--admin-key", envvar="PARLEY_ADMIN_KEY", default=None, help="Enables POST /v1/apps.")
@click.option(
    "--ops-token",
    envvar="PARLEY_OPS_TOKEN",
    default=None,
    help="Bearer token /metrics and /readyz require (default: open).",
)
@click.option(
    "--ops-listen",
    envvar="PARLEY_OPS_LISTEN",
    default=None,
    help="HOST:PORT serving /metrics and /readyz only (then 404 on the public port).",
)
@click.option(
    "--allowed-origin",
    "allowed_origins",
    envvar="PARLEY_ALLOWED_ORIGINS",
    multiple=True,
    help="Allowed browser Origin (repeat); default: any.",
)
@click.option(
    "--rate-frames",
    envvar="PARLEY_RATE_FRAMES",
    default=100.0,
    show_default=True,
    type=float,
    help="Frames/s per connection (burst 2x); 0 disables.",
)
@click.option(
    "--rate-sends",
    envvar="PARLEY_RATE_SENDS",
    default=50.0,
    show_default=True,
    type=float,
    help="Messages/s per user per node (burst 2x); 0 disables.",
)
@click.option(
    "--store-timeout",
    envvar="PARLEY_STORE_TIMEOUT",
    default=3.0,
    show_default=True,
    type=float,
    help="Deadline of one store operation, seconds.",
)
@click.option(
    "--max-connections-per-user",
    envvar="PARLEY_MAX_CONNECTIONS_PER_USER",
    default=10,
    show_default=True,
    type=int,
)
@click.option(
    "--outbound-queue-bytes",
    envvar="PARLEY_OUTBOUND_QUEUE_BYTES",
    default=8 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(min=0),
    help="Bytes queued for one connection before it is closed as a slow consumer (4008); 0: frames bound only.",
)
@click.option("--log-level", envvar="PARLEY_LOG_LEVEL", default="info", show_default=True)
@click.option(
    "--log-format",
    envvar="PARLEY_LOG_FORMAT",
    type=click.Choice(["json", "text"]),
    default="json",
    show_default=True,
)
@limit_options
def serve(
    host: str,
    port: int,
    sqlite_path: str,
    mongo_url: str | None,
    mongo_database: str,
    redis_url: str | None,
    node_id: str | None,
    max_frame: int,
    admin_key: str | None,
    ops_token: str | None,
    ops_listen: str | None,
    allowed_origins: tuple[str, ...],
    rate_frames: float,
    rate_sends: float,
    store_timeout: float,
    max_connections_per_user: int,
    outbound_queue_bytes: int,
    log_level: str,
    log_format: str,
    **limits: Any,
) -> None:
    """Run a gateway node (WebSocket at /ws, admin API at /v1, OpenAPI at /openapi.json)."""
    from parley.server.serve import make_server, tune_gc

    settings = Settings(
        host=host,
        port=port,
        sqlite_path=sqlite_path,
        mongo_url=mongo_url,
        mongo_database=mongo_database,
        redis_url=redis_url,
        max_frame=max_frame,
        admin_key=admin_key,
        ops_token=ops_token or None,
        ops_listen=ops_listen or None,
        rate_frames=rate_frames,
        rate_frames_burst=2 * rate_frames,
        rate_sends=rate_sends,
        rate_sends_burst=2 * rate_sends,
        max_connections_per_user=max_connections_per_user,
        store_timeout=store_timeout,
        allowed_origins=allowed_origins,
        **limits,
        outbound_queue_bytes=outbound_queue_bytes,
    )
    if node_id:
        settings = dataclasses.replace(settings, node_id=node_id)
    from parley.server.app import ops_address

    try:
        ops_address(settings)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--ops-listen") from None
    configure_logging(log_level, log_format, settings.node_id)
    tune_gc()  # a serving process's heap, not a script's: see GC_YOUNG_THRESHOLD
    make_server(settings, log_level=log_level).run()


@main.group()
def app() -> None:
    """Manage apps (tenants)."""


@app.command("create")
@click.option("--name", required=True)
@click.option("--format", "fmt", type=click.Choice(["env", "json"]), default="env", show_default=True)
@store_options
def app_create(name: str, fmt: str, sqlite_path: str, mongo_url: str | None, mongo_database: str) -> None:
    """Create an app; prints its id, token secret and API key (shown once)."""
    created = _with_apps(sqlite_path, mongo_url, mongo_database, lambda s: s.create_app(name))
    values = {
        "PARLEY_APP": created.app.app,
        "PARLEY_APP_SECRET": created.app.secret,
        "PARLEY_API_KEY": created.api_key,
    }
    if fmt == "json":
        click.echo(json.dumps(values))
    else:
        for key, value in values.items():
            click.echo(f"export {key}={value}")


@app.command("list")
@store_options
def app_list(sqlite_path: str, mongo_url: str | None, mongo_database: str) -> None:
    """List apps."""

    async def work(s: AppService) -> list[str]:
        return [f"{a.app}\t{a.name}" for a in await s._store.list_apps()]

    for line in _with_apps(sqlite_path, mongo_url, mongo_database, work):
        click.echo(line)


@app.command("key")
@click.option("--app", "app_id", envvar="PARLEY_APP", required=True)
@store_options
def app_key(app_id: str, sqlite_path: str, mongo_url: str | None, mongo_database: str) -> None:
    """Create an additional API key for an app."""

    async def work(s: AppService) -> str:
        await s.get_app(app_id)
        return await s.add_key(app_id)

    click.echo(_with_apps(sqlite_path, mongo_url, mongo_database, work))


@main.command()
@click.option("--app", "app_id", envvar="PARLEY_APP", required=True)
@click.option("--user", required=True)
@click.option("--ttl", default=3600, show_default=True, type=int, help="Seconds until it expires.")
@store_options
def token(
    app_id: str, user: str, ttl: int, sqlite_path: str, mongo_url: str | None, mongo_database: str
) -> None:
    """Print a user token (what your back-end would sign)."""
    issued, _ = _with_apps(sqlite_path, mongo_url, mongo_database, lambda s: s.token(app_id, user, ttl=ttl))
    click.echo(issued)


@main.command("user")
@click.option("--app", "app_id", envvar="PARLEY_APP", required=True)
@click.option("--user", required=True)
@click.option("--name", default="")
@click.option(
    "--role", type=click.Choice([r.value for r in UserRole]), default=UserRole.USER.value, show_default=True
)
@store_options
def user_create(
    app_id: str, user: str, name: str, role: str, sqlite_path: str, mongo_url: str | None, mongo_database: str
) -> None:
    """Create or update a user."""

    async def work(s: AppService) -> str:
        await s.get_app(app_id)
        u = await s.upsert_user(app_id, user, name=name, role=role)
        return f"{u.user}\t{u.role}\t{u.name}"

    click.echo(_with_apps(sqlite_path, mongo_url, mongo_database, work))


main.add_command(console_user)

if __name__ == "__main__":
    main()
