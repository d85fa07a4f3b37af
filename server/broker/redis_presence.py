"""The shared presence registry of :class:`~parley.server.broker.redis.RedisBroker`.

Per key a Redis hash ``conn -> expiry (ms, Redis clock)``. Adding, removing and
refreshing are Lua scripts, so "came online" / "went offline" are decided
atomically across nodes; expired entries are ignored and cleaned.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from parley.server.coalesce import Coalescer
from parley.server.ports import BrokerUnavailable

__all__ = ["ERRORS", "RedisPresence", "chunks"]

#: What a lost or failing Redis raises (the builtin TimeoutError is an OSError).
ERRORS = (RedisError, OSError)

#: Channels per SUBSCRIBE and presence entries per Lua call: big enough to amortise
#: round trips, small enough not to stall Redis.
_CHUNK = 1000

# KEYS = presence hashes; ARGV = ttl_ms, then the conn for each key. Per key, in order:
# 1 if the key came online (no live conn before this one), else 0.
_ADD = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local ttl = tonumber(ARGV[1])
local expiry = string.format('%d', now + ttl)
local result = {}
for k, key in ipairs(KEYS) do
  local live = 0
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    if tonumber(all[i + 1]) > now then live = live + 1
    else redis.call('HDEL', key, all[i]) end
  end
  redis.call('HSET', key, ARGV[k + 1], expiry)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
  result[k] = (live == 0) and 1 or 0
end
return result
"""

# KEYS = presence hashes; ARGV = the conn for each key. Per key, in order: 1 if its conn
# was there and no live conn is left, else 0.
_REMOVE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local result = {}
for k, key in ipairs(KEYS) do
  result[k] = 0
  if redis.call('HDEL', key, ARGV[k]) == 1 then
    local live = false
    local all = redis.call('HGETALL', key)
    for i = 2, #all, 2 do
      if tonumber(all[i]) > now then live = true break end
    end
    if not live then
      redis.call('DEL', key)
      result[k] = 1
    end
  end
end
return result
"""

# KEYS = presence hashes; ARGV = ttl_ms, conn per key. Extends existing entries only.
_REFRESH = """
local t = redis.call('TIME')
local ttl = tonumber(ARGV[1])
local expiry = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000) + ttl)
for i, key in ipairs(KEYS) do
  if redis.call('HEXISTS', key, ARGV[i + 1]) == 1 then
    redis.call('HSET', key, ARGV[i + 1], expiry)
    if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
  end
end
return 0
"""


def _ms(ttl: float) -> int:
    return max(1, int(ttl * 1000))


def chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    """``items`` in consecutive slices of at most ``size`` (one SUBSCRIBE or one script call each)."""
    return (items[i : i + size] for i in range(0, len(items), size))


class RedisPresence:
    """Presence methods of the Redis broker. Concurrent adds (and removes) are coalesced into
    one script call per round trip: a connect storm costs one ``EVALSHA`` per batch."""

    _redis: Redis
    _presence_prefix: str
    _add: AsyncScript
    _remove: AsyncScript
    _adds: Coalescer[tuple[str, str, int], bool]
    _removes: Coalescer[tuple[str, str], bool]

    def _init_presence(self, redis: Redis, prefix: str) -> None:
        self._presence_prefix = prefix
        self._add = redis.register_script(_ADD)
        self._remove = redis.register_script(_REMOVE)
        self._adds = Coalescer(self._add_batch, max_batch=_CHUNK)
        self._removes = Coalescer(self._remove_batch, max_batch=_CHUNK)

    # presence ---------------------------------------------------------
    def _key(self, key: str) -> str:
        return f"{self._presence_prefix}presence:{key}"

    async def presence_add(self, key: str, conn: str, ttl: float) -> bool:
        """Register ``conn`` for ``key`` for ``ttl`` seconds on the Redis clock; True if ``key``
        just came online.

        Decided inside one Lua script, so two nodes adding at once never both report "came online".
        """
        try:
            return await self._adds.submit((self._key(key), conn, _ms(ttl)))
        except ERRORS as exc:
            raise BrokerUnavailable(f"redis: {exc}") from exc

    async def presence_remove(self, key: str, conn: str) -> bool:
        """True only on the transition: ``conn`` was registered and no live conn is left."""
        try:
            return await self._removes.submit((self._key(key), conn))
        except ERRORS as exc:
            raise BrokerUnavailable(f"redis: {exc}") from exc

    async def _add_batch(self, items: Sequence[tuple[str, str, int]]) -> list[bool]:
        # One ttl per script call: batches are split where it changes (it is a node setting).
        results: list[bool] = []
        start = 0
        while start < len(items):
            ttl = items[start][2]
            end = start
            while end < len(items) and items[end][2] == ttl:
                end += 1
            part = items[start:end]
            replies = await self._add(keys=[k for k, _, _ in part], args=[ttl, *(c for _, c, _ in part)])
            results += [bool(r) for r in replies]
            start = end
        return results

    async def _remove_batch(self, items: Sequence[tuple[str, str]]) -> list[bool]:
        replies = await self._remove(keys=[k for k, _ in items], args=[c for _, c in items])
        return [bool(r) for r in replies]

    async def presence_refresh(self, entries: Collection[tuple[str, str]], ttl: float) -> None:
        """Extend existing entries (never re-create removed ones), one pipelined round trip."""
        items = list(entries)
        if not items:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for chunk in chunks(items):
                    keys = [self._key(key) for key, _ in chunk]
                    pipe.eval(_REFRESH, len(keys), *keys, _ms(ttl), *(conn for _, conn in chunk))
                await pipe.execute()
        except ERRORS as exc:
            raise BrokerUnavailable(f"redis: {exc}") from exc

    async def presence_online(self, keys: Collection[str]) -> set[str]:
        """The subset of ``keys`` with a live connection, judged by the Redis clock in the same round trip."""
        wanted = list(keys)
        if not wanted:
            return set()
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.time()  # the Redis clock, the one the scripts write expiries with
                for key in wanted:
                    pipe.hvals(self._key(key))
                (seconds, micros), *values = await pipe.execute()
        except ERRORS as exc:
            raise BrokerUnavailable(f"redis: {exc}") from exc
        now = seconds * 1000 + micros // 1000
        return {key for key, exp in zip(wanted, values, strict=True) if any(int(e) > now for e in exp)}
