"""Apps (tenants), their API keys, users and tokens — what the CLI and admin API manage."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from parley.proto.errors import ErrorCode
from parley.server.auth.identity import DEFAULT_BOT, claim_refusal
from parley.server.auth.tokens import USER_ROLES, issue_token
from parley.server.errors import ServiceError
from parley.server.ids import new_id, now_ms
from parley.server.models import App, User
from parley.server.store_ports import Directory

__all__ = ["AppService", "NewApp", "hash_key"]


def hash_key(key: str) -> str:
    """API keys are stored as SHA-256 digests; they are random, so no salt or KDF is needed."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewApp:
    """A freshly created app. ``api_key`` is shown once and never stored in clear."""

    app: App
    api_key: str


class AppService:
    """Apps, API keys, users and user tokens over the :class:`Directory` port (for the CLI and admin API)."""

    def __init__(
        self, store: Directory, *, audience: str, max_ttl: int = 30 * 86400, support_bot: str = DEFAULT_BOT
    ) -> None:
        self._store = store
        self._support_bot = support_bot
        self._audience = audience
        #: Longest token it signs (the verifier's ``token_max_lifetime``).
        self._max_ttl = max_ttl

    async def create_app(self, name: str) -> NewApp:
        """Create an app with a fresh id and token secret, and its first API key (returned once, in
        clear). Two steps, not atomic: if the key cannot be stored the app exists without a key.
        """
        app = App(app=new_id("app"), name=name, secret=secrets.token_urlsafe(32), created=now_ms())
        await self._store.create_app(app)
        return NewApp(app, await self.add_key(app.app))

    async def add_key(self, app: str) -> str:
        """A new random API key for ``app``: only its SHA-256 digest is stored, the key is returned once."""
        key = "pk_" + secrets.token_urlsafe(32)
        await self._store.add_api_key(app, hash_key(key), now_ms())
        return key

    async def app_for_key(self, key: str) -> App | None:
        """The app owning API key ``key``; None for an unknown or revoked key (never cached)."""
        return await self._store.app_for_key(hash_key(key))

    async def get_app(self, app: str) -> App:
        """The app; ``ServiceError(NOT_FOUND)`` if there is no such app."""
        found = await self._store.get_app(app)
        if found is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no app {app}")
        return found

    async def upsert_user(
        self, app: str, user: str, *, name: str = "", role: str = "user", meta: dict[str, Any] | None = None
    ) -> User:
        """Create the user or update name, role and meta (``created`` kept).

        ``ServiceError(INVALID_REQUEST)`` for an unknown role or an id that may not be claimed with
        it (bad charset, the system user, the support bot's id without role ``bot``).
        """
        if role not in USER_ROLES:
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"role must be one of {sorted(USER_ROLES)}")
        self._check_claimable(user, role)
        return await self._store.upsert_user(
            User(app=app, user=user, name=name, role=role, meta=meta or {}, created=now_ms())
        )

    async def get_user(self, app: str, user: str) -> User:
        """The stored user; ``ServiceError(NOT_FOUND)`` if the user was never stored."""
        found = await self._store.get_user(app, user)
        if found is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no user {user}")
        return found

    async def token(self, app: str, user: str, *, ttl: int = 3600) -> tuple[str, int]:
        """A user token, carrying the user's stored name and role when the user exists."""
        if not 1 <= ttl <= self._max_ttl:
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"ttl must be between 1 and {self._max_ttl} s")
        record = await self._store.get_user(app, user)
        name, role = (record.name, record.role) if record else ("", "user")
        self._check_claimable(user, role)
        return issue_token(
            await self.get_app(app), user, ttl=ttl, audience=self._audience, name=name, role=role
        )

    def _check_claimable(self, user: str, role: str) -> None:
        refusal = claim_refusal(user, role, support_bot=self._support_bot)
        if refusal is not None:
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"user {user!r} refused: {refusal}")
