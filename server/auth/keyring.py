"""The signing keys a node accepts for one app: its current secret and, during a rotation's
overlap window, the secrets it replaced.

:class:`Keyrings` caches them per app for ``ttl`` seconds. That bounds how long a node keeps
accepting a secret after the app rotated it on another node (the node that rotates drops its
cache at once). A token that fails with every cached key makes the node reload the app (a
token signed with a secret rotated on another node is then accepted at once) — such reloads
happen at most once a second per app, so bad signatures cannot turn into a store read each.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from parley.proto.errors import ErrorCode
from parley.server.auth import hs256
from parley.server.errors import ServiceError
from parley.server.models import App
from parley.server.ports import Store

__all__ = ["Keyring", "Keyrings"]

#: Seconds between reloads of an app whose cached keys did not verify a token.
RELOAD_AFTER_FAILURE = 1.0


@dataclass(slots=True)
class Keyring:
    """One app's current key and retired keys with their end (ms since the epoch)."""

    app: App
    current: hs256.SigningKey
    retired: list[tuple[hs256.SigningKey, int]] = field(default_factory=list)
    loaded: float = 0.0

    def check(self, token: hs256.ParsedToken, now_ms: int) -> None:
        """Raise :class:`hs256.InvalidToken` unless a live key of the app signed ``token``."""
        try:
            self.current.check_signature(token)
            return
        except hs256.InvalidToken:
            for key, until in self.retired:
                if until > now_ms:
                    try:
                        key.check_signature(token)
                        return
                    except hs256.InvalidToken:
                        continue
            raise


class Keyrings:
    """Per-app keyrings, loaded from the store and kept ``ttl`` seconds."""

    def __init__(self, store: Store, *, ttl: float) -> None:
        self._store = store
        self._ttl = ttl
        self._rings: dict[str, Keyring] = {}
        #: When a failed verification last reloaded each app (monotonic seconds).
        self._retried: dict[str, float] = {}

    def forget(self, app: str) -> None:
        """Drop the cached keys of ``app`` (after a rotation on this node)."""
        self._rings.pop(app, None)

    async def get(self, app: str) -> Keyring:
        """The app's keyring; ``token_invalid`` for an unknown app."""
        ring = self._rings.get(app)
        if ring is None or time.monotonic() - ring.loaded > self._ttl:
            ring = await self._load(app)
        return ring

    async def verify(self, app: str, token: hs256.ParsedToken) -> App:
        """Check ``token``'s signature against the app's live keys (reloading them once if stale)."""
        ring = await self.get(app)
        now = time.time_ns() // 1_000_000
        try:
            ring.check(token, now)
        except hs256.InvalidToken:
            now_s = time.monotonic()
            if now_s - self._retried.get(app, -RELOAD_AFTER_FAILURE) < RELOAD_AFTER_FAILURE:
                raise
            self._retried[app] = now_s
            ring = await self._load(app)  # perhaps rotated on another node since we loaded it
            ring.check(token, now)
        return ring.app

    async def _load(self, app: str) -> Keyring:
        found = await self._store.get_app(app)
        if found is None:
            self._rings.pop(app, None)
            raise ServiceError(ErrorCode.TOKEN_INVALID, f"unknown app {app!r}")
        retired = [(hs256.SigningKey(r.secret), r.until) for r in await self._store.retired_secrets(app)]
        ring = Keyring(found, hs256.SigningKey(found.secret), retired, time.monotonic())
        self._rings[app] = ring
        return ring
