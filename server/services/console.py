"""The web console's people: console users, passwords, sessions, and what the agent inbox reads.

Passwords are hashed with argon2id (``argon2-cffi``, its RFC 9106 low-memory defaults: 64 MiB,
3 passes). A hash costs tens of milliseconds of CPU and 64 MiB, so it runs in a worker thread
(never on the event loop that serves the WebSocket gateway) and at most
:data:`HASHES_AT_ONCE` run at a time: a burst of logins waits instead of taking the node's memory.

A session is a random secret in an HttpOnly cookie; the store keeps only its SHA-256 digest
and the session's CSRF token (the synchronizer token every state-changing request echoes in a
header, see ``server/console/session.py``). Every action is written to the app's audit log
(the moderation service's, actor ``console:<username>``), failed logins included.

An agent is the same identity the support flow routes to: a console user with role ``agent``
is also the chat user of the same id with role ``agent`` (created or updated with it), and
the console gets short-lived tokens for that user (:meth:`ConsoleService.ws_token`) so the
page speaks the real protocol.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from parley.proto.errors import ErrorCode
from parley.proto.ids import is_user_id
from parley.proto.vocabulary import UserRole
from parley.server.console_port import ConsoleRole, ConsoleSession, ConsoleStore, ConsoleUser
from parley.server.errors import ServiceError
from parley.server.ids import now_ms
from parley.server.models import Ticket
from parley.server.services.apps import AppService
from parley.server.services.moderation import ModerationService
from parley.server.services.presence import PresenceService
from parley.server.store_ports import Directory, Tickets

__all__ = ["Agent", "ConsoleService", "FieldError", "LoggedIn", "session_digest"]

#: Password hashes computed at once per node (each takes ~64 MiB while it runs).
HASHES_AT_ONCE = 2
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
#: The canned replies setting: a list of ``{"title", "text"}``.
CANNED = "canned_replies"
MAX_CANNED, MAX_CANNED_TEXT = 200, 4000


class ConsoleServiceStore(ConsoleStore, Directory, Tickets, Protocol):
    """The role ports this service uses: console records, chat users (agents) and tickets."""


class FieldError(ServiceError):
    """INVALID_REQUEST about one input ``field`` (the console shows it next to that field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(ErrorCode.INVALID_REQUEST, message)
        self.field = field


def session_digest(secret: str) -> str:
    """What the store keeps of a session's secret: its SHA-256 (the secret is random, so no salt)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """A new session: ``secret`` goes into the cookie (shown once), ``session`` holds its CSRF token."""

    secret: str
    session: ConsoleSession
    user: ConsoleUser


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent to transfer to: user id, display name and whether they are online now."""

    user: str
    name: str
    online: bool


class ConsoleService:
    """Console users, login sessions, agent tokens and the inbox's reads (see the module doc)."""

    def __init__(
        self,
        store: ConsoleServiceStore,
        apps: AppService,
        moderation: ModerationService,
        presence: PresenceService,
        *,
        session_ttl: int,
        ws_token_ttl: int,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._store = store
        self._apps = apps
        self._moderation = moderation
        self._presence = presence
        self._session_ttl = session_ttl
        self._ws_token_ttl = ws_token_ttl
        self._hasher = hasher or PasswordHasher()
        self._hashing = asyncio.Semaphore(HASHES_AT_ONCE)
        #: Verified against when the user does not exist, so that a wrong user name costs as
        #: long as a wrong password (no user-name discovery by timing). Made on first use.
        self._dummy = ""

    # ------------------------------------------------------------ hashing
    async def _hash(self, password: str) -> str:
        async with self._hashing:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def _verify(self, encoded: str, password: str) -> bool:
        async with self._hashing:
            try:
                return await asyncio.to_thread(self._hasher.verify, encoded, password)
            except (VerificationError, InvalidHashError):
                return False

    # -------------------------------------------------------------- users
    async def add_user(
        self,
        app: str,
        username: str,
        password: str,
        roles: Sequence[str],
        *,
        name: str = "",
        actor: str = "cli",
    ) -> ConsoleUser:
        """Create or replace a console user (audited). With role ``agent`` the chat user of the same
        id becomes an agent too. ``ServiceError``: NOT_FOUND for an unknown app; INVALID_REQUEST for a
        name outside the user-id charset, no or unknown roles, or a password of the wrong length.
        """
        await self._apps.get_app(app)
        if not is_user_id(username):
            raise FieldError(
                "username", "the user name must be a user id (1-128 of A-Z a-z 0-9 . _ - @ : + = ~ |)"
            )
        known = {r.value for r in ConsoleRole}
        if not roles or not set(roles) <= known:
            raise FieldError("roles", f"roles must be some of {sorted(known)}")
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise FieldError(
                "password", f"the password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters"
            )
        ordered = tuple(r.value for r in ConsoleRole if r.value in roles)
        if ConsoleRole.AGENT in ordered:
            await self._apps.upsert_user(app, username, name=name, role=UserRole.AGENT)
        user = ConsoleUser(app, username, await self._hash(password), ordered, name, now_ms())
        await self._store.put_console_user(user)
        await self.audit(app, actor, "console.user_add", username, roles=list(ordered))
        return user

    async def users(self, app: str) -> list[ConsoleUser]:
        """The app's console users, by name."""
        return await self._store.list_console_users(app)

    # ----------------------------------------------------------- sessions
    async def login(self, app: str, username: str, password: str, *, client: str = "") -> LoggedIn:
        """Check the password and open a session (audited, failures too). Any mismatch — unknown app
        or user, disabled user, wrong password — is the same ``NOT_AUTHENTICATED``, so the answer
        tells nothing about which part was wrong.
        """
        user = await self._store.get_console_user(app, username) if is_user_id(username) else None
        if user is None:
            if not self._dummy:
                self._dummy = await self._hash(secrets.token_urlsafe(16))
            await self._verify(self._dummy, password)
            ok = False
        else:
            ok = await self._verify(user.password_hash, password) and not user.disabled
        if user is None or not ok:
            if user is not None:
                await self.audit(app, f"console:{username}", "console.login_failed", username, client=client)
            raise ServiceError(ErrorCode.NOT_AUTHENTICATED, "wrong app, user name or password")
        if self._hasher.check_needs_rehash(user.password_hash):
            user = replace(user, password_hash=await self._hash(password))
            await self._store.put_console_user(user)
        secret = secrets.token_urlsafe(32)
        now = now_ms()
        await self._store.purge_console_sessions(app, username, now)  # expired ones never pile up
        session = ConsoleSession(
            session_digest(secret),
            app,
            username,
            secrets.token_urlsafe(24),
            now,
            now + self._session_ttl * 1000,
        )
        await self._store.add_console_session(session)
        await self.audit(app, f"console:{username}", "console.login", username, client=client)
        return LoggedIn(secret, session, user)

    async def session(self, secret: str) -> tuple[ConsoleSession, ConsoleUser] | None:
        """The live session of a cookie's secret and its user; None if expired, logged out, or the
        user is gone or disabled."""
        if not secret or len(secret) > 200:
            return None
        session = await self._store.get_console_session(session_digest(secret), now_ms())
        if session is None:
            return None
        user = await self._store.get_console_user(session.app, session.username)
        if user is None or user.disabled:
            return None
        return session, user

    async def logout(self, session: ConsoleSession) -> None:
        """End this one session (audited)."""
        await self._store.delete_console_session(session.token_hash)
        await self.audit(session.app, f"console:{session.username}", "console.logout", session.username)

    async def logout_everywhere(self, app: str, username: str, *, actor: str) -> int:
        """End every session of the user, on every device (audited); returns how many ended. An
        agent's chat tokens are revoked too, which closes the consoles' WebSockets (4011) on every
        node: their pages then ask for a new token, find no session, and go to the login page."""
        ended = await self._store.delete_console_sessions(app, username)
        user = await self._store.get_console_user(app, username)
        if user is not None and ConsoleRole.AGENT in user.roles:
            await self._moderation.revoke_tokens(app, actor, username, None)
        await self.audit(app, actor, "console.logout_everywhere", username, sessions=ended)
        return ended

    async def ws_token(self, user: ConsoleUser) -> tuple[str, int]:
        """A short-lived user token for the agent's own chat identity, signed with the app's secret
        like any user token (audited). ``ServiceError(FORBIDDEN)`` without the agent role."""
        if ConsoleRole.AGENT not in user.roles:
            raise ServiceError(ErrorCode.FORBIDDEN, "only agents connect to the chat from the console")
        token = await self._apps.token(user.app, user.username, ttl=self._ws_token_ttl)
        await self.audit(user.app, f"console:{user.username}", "console.ws_token", user.username)
        return token

    # -------------------------------------------------------------- inbox
    async def customer_tickets(self, app: str, customer: str) -> list[Ticket]:
        """The customer's tickets, newest first (a scan of the app's tickets: fine for a console,
        not for a hot path)."""
        mine = [t for t in await self._store.list_tickets(app) if t.customer == customer]
        return sorted(mine, key=lambda t: t.created, reverse=True)

    async def agents(self, app: str) -> list[Agent]:
        """The app's agents (chat users with role ``agent``) and whether each is online."""
        users = await self._store.list_users(app, UserRole.AGENT)
        online = {p.user for p in await self._presence.current(app, [u.user for u in users]) if p.online}
        return [Agent(u.user, u.name, u.user in online) for u in users]

    async def canned(self, app: str) -> list[dict[str, str]]:
        """The app's canned replies (``{"title", "text"}``), in the order an admin saved them."""
        value = await self._store.get_console_setting(app, CANNED)
        return list(value) if isinstance(value, list) else []

    async def set_canned(self, app: str, replies: list[dict[str, str]], *, actor: str) -> None:
        """Replace the canned replies (audited); INVALID_REQUEST past the bounds or with empty fields."""
        if len(replies) > MAX_CANNED:
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"at most {MAX_CANNED} canned replies")
        for r in replies:
            if not r.get("title", "").strip() or not r.get("text", "").strip():
                raise ServiceError(ErrorCode.INVALID_REQUEST, "every canned reply needs a title and a text")
            if len(r["title"]) > 100 or len(r["text"]) > MAX_CANNED_TEXT:
                raise ServiceError(
                    ErrorCode.INVALID_REQUEST,
                    f"a title has at most 100 and a text {MAX_CANNED_TEXT} characters",
                )
        clean = [{"title": r["title"].strip(), "text": r["text"]} for r in replies]
        await self._store.put_console_setting(app, CANNED, clean)
        await self.audit(app, actor, "console.canned_replies", app, count=len(clean))

    # -------------------------------------------------------------- audit
    async def audit(self, app: str, actor: str, action: str, target: str, **detail: Any) -> None:
        """One record in the app's audit log (the moderation log, ``GET /v1/audit``)."""
        await self._moderation.audit(app, actor, action, target, **detail)
