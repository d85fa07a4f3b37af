"""The console part of the store port: web-console users, their sessions and per-app settings.

The web console (``/console``, :mod:`parley.server.console`) logs people in with a user name
and password per app; each has roles (``admin``, ``marketer``, ``agent``). A role port of its
own, like :class:`~parley.server.invites_port.InvitationStore`. Adapters:
``store/sqlite_console.py`` and ``store/mongo_console.py``, role classes of the SQLite and
MongoDB stores; ``tests/server/store/test_console_contract.py`` runs against both.

Guarantees:

* Everything is keyed by app: no call ever sees another app's records.
* One console user per ``(app, username)``: ``put_console_user`` creates or replaces it whole.
* Sessions are found by the digest of their secret (``token_hash``; the secret itself is
  never stored, so a copy of the database logs nobody in). A session with ``expires <= now``
  does not exist for ``get_console_session`` (the caller passes ``now``, so a test can move time).
* ``delete_console_session`` is a compare-and-delete: of concurrent deletes of one session (on
  one store instance or two) exactly one returns True.
* ``delete_console_sessions`` ("log out everywhere") removes every session of the user, expired
  or not, and returns how many; a session created after it returns is not affected.
  ``purge_console_sessions`` removes only the user's expired ones (``expires <= now``).
* A setting is one JSON-like value per ``(app, key)``, replaced whole by ``put_console_setting``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["ConsoleRole", "ConsoleSession", "ConsoleStore", "ConsoleUser"]


class ConsoleRole(enum.StrEnum):
    """What a console user may do: ``admin`` (users, keys, settings), ``marketer`` (audiences,
    campaigns), ``agent`` (the support inbox, as the chat user of the same id)."""

    ADMIN = "admin"
    MARKETER = "marketer"
    AGENT = "agent"


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """A person who logs into the app's console. ``username`` is also their chat user id (an
    agent answers customers as that user). ``password_hash`` is an argon2 encoded hash."""

    app: str
    username: str
    password_hash: str
    roles: tuple[str, ...]
    name: str = ""
    created: int = 0
    #: A disabled user cannot log in (their sessions are removed when disabled).
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A logged-in browser: found by ``token_hash`` (SHA-256 of the cookie's secret); ``csrf`` is
    the token every state-changing request must echo; times are ms."""

    token_hash: str
    app: str
    username: str
    csrf: str
    created: int
    expires: int


class ConsoleStore(Protocol):
    """Durable console users, sessions and settings. Every method may raise ``StoreUnavailable``."""

    async def put_console_user(self, user: ConsoleUser) -> None:
        """Create or replace the console user ``(user.app, user.username)``."""

    async def get_console_user(self, app: str, username: str) -> ConsoleUser | None:
        """The console user; None if there is none."""

    async def list_console_users(self, app: str) -> list[ConsoleUser]:
        """The app's console users, by username."""

    async def add_console_session(self, session: ConsoleSession) -> None:
        """Store a new session (its ``token_hash`` is random and unique)."""

    async def get_console_session(self, token_hash: str, now: int) -> ConsoleSession | None:
        """The session with this digest if ``expires > now``; None otherwise."""

    async def delete_console_session(self, token_hash: str) -> bool:
        """Remove one session (log out); False if there was none (or a concurrent delete won)."""

    async def delete_console_sessions(self, app: str, username: str) -> int:
        """Remove every session of the user (log out everywhere); returns how many."""

    async def purge_console_sessions(self, app: str, username: str, now: int) -> int:
        """Remove the user's sessions with ``expires <= now`` (done at each login); returns how many."""

    async def get_console_setting(self, app: str, key: str) -> Any:
        """The app's value of ``key`` (plain data); None if never set."""

    async def put_console_setting(self, app: str, key: str, value: Any) -> None:
        """Create or replace the app's value of ``key``."""
