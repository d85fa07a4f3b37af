"""``parley console-user ...``: web-console users from the shell (the first admin is made here).

See docs/CONSOLE.md. Works on the same store options as ``serve``.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from parley.server.cli_store import store_options
from parley.server.console_port import ConsoleRole
from parley.server.errors import ServiceError
from parley.server.ports import StoreUnavailable
from parley.server.services.console import ConsoleService
from parley.server.settings import Settings
from parley.server.store import open_store

__all__ = ["console_user"]

T = TypeVar("T")


def _with_console(
    sqlite_path: str,
    mongo_url: str | None,
    mongo_database: str,
    work: Callable[[ConsoleService], Awaitable[T]],
) -> T:
    """Run ``work`` with the console service over the store (what ``parley console-user`` does)."""
    from parley.server.broker.memory import MemoryBroker
    from parley.server.services import build_services

    async def run() -> T:
        store = open_store(mongo_url, sqlite_path=sqlite_path, mongo_database=mongo_database)
        await store.open()
        try:
            return await work(build_services(Settings(), store, MemoryBroker()).console)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    except StoreUnavailable as exc:
        raise click.ClickException(f"the store is unavailable: {exc}") from None


@click.group("console-user")
def console_user() -> None:
    """Manage web-console users (create the first admin here; see docs/CONSOLE.md)."""


@console_user.command("add")
@click.option("--app", "app_id", envvar="PARLEY_APP", required=True)
@click.option("--user", "username", required=True, help="Login name; an agent answers chats as this user id.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in ConsoleRole]),
    help="Repeat for several roles.",
)
@click.option("--name", default="", help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@store_options
def console_user_add(
    app_id: str,
    username: str,
    roles: tuple[str, ...],
    name: str,
    password_stdin: bool,
    sqlite_path: str,
    mongo_url: str | None,
    mongo_database: str,
) -> None:
    """Create or replace a console user (asks for the password unless --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = str(click.prompt("Password", hide_input=True, confirmation_prompt=True))

    async def work(s: ConsoleService) -> str:
        u = await s.add_user(app_id, username, password, roles, name=name, actor="cli")
        return f"{u.username}\t{','.join(u.roles)}\t{u.name}"

    click.echo(_with_console(sqlite_path, mongo_url, mongo_database, work))


@console_user.command("list")
@click.option("--app", "app_id", envvar="PARLEY_APP", required=True)
@store_options
def console_user_list(app_id: str, sqlite_path: str, mongo_url: str | None, mongo_database: str) -> None:
    """List the app's console users and their roles."""

    async def work(s: ConsoleService) -> list[str]:
        return [f"{u.username}\t{','.join(u.roles)}\t{u.name}" for u in await s.users(app_id)]

    for line in _with_console(sqlite_path, mongo_url, mongo_database, work):
        click.echo(line)


@console_user.command("logout-everywhere")
@click.option("--app", "app_id", envvar="PARLEY_APP", required=True)
@click.option("--user", "username", required=True)
@store_options
def console_user_logout(
    app_id: str, username: str, sqlite_path: str, mongo_url: str | None, mongo_database: str
) -> None:
    """End every console session of the user (a lost laptop); audited."""

    async def work(s: ConsoleService) -> int:
        return await s.logout_everywhere(app_id, username, actor="cli")

    click.echo(f"{_with_console(sqlite_path, mongo_url, mongo_database, work)} sessions ended")
