"""Keyrings against a real store: a secret rotated by another node is accepted at once, a
retired one only until its overlap ends, and bad signatures reload the app at most once a second."""

from __future__ import annotations

import time
from pathlib import Path

import jwt

from parley.server.auth import hs256
from parley.server.auth.keyring import Keyrings
from parley.server.models import App
from parley.server.safety_models import RetiredSecret
from parley.server.store.sqlite import SQLiteStore

OLD, NEW, FORGED = ("old-" * 10, "new-" * 10, "forged-" * 6)


def token(secret: str) -> hs256.ParsedToken:
    claims = {"iss": "a", "sub": "u", "exp": int(time.time()) + 60}
    return hs256.parse(jwt.encode(claims, secret, algorithm="HS256"))


class CountingStore(SQLiteStore):
    reads = 0

    async def get_app(self, app: str) -> App | None:
        self.reads += 1
        return await super().get_app(app)


async def test_rotation_elsewhere_is_picked_up_on_the_first_failure_then_rate_limited(tmp_path: Path) -> None:
    store = CountingStore(str(tmp_path / "k.db"))
    await store.open()
    try:
        await store.create_app(App("a", "A", OLD, 1))
        rings = Keyrings(store, ttl=3600)
        assert (await rings.verify("a", token(OLD))).app == "a"
        # Another node rotates (this node's cache still holds "old" only).
        until = time.time_ns() // 1_000_000 + 60_000
        await store.rotate_secret("a", NEW, RetiredSecret("a", OLD, until))
        await rings.verify("a", token(NEW))  # reloaded once, at once
        await rings.verify("a", token(OLD))  # in its overlap
        reads = store.reads
        for _ in range(5):
            try:
                await rings.verify("a", token(FORGED))
            except hs256.InvalidToken:
                pass
        assert store.reads - reads <= 1, "bad signatures reload the app at most once a second"
    finally:
        await store.close()
