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

from parley.server.ports import BrokerUnavailable

__all__ = ["ERRORS", "RedisPresence", "chunks"]

#: What a lost or failing Redis raises (the builtin TimeoutError is an OSError).
ERRORS = (RedisError, OSError)

#: Channels per SUBSCRIBE and presence entries per Lua call: big enough to amortise
#: round trips, small enough not to stall Redis.
_CHUNK = 1000

# KEYS[1] = presence hash; ARGV = conn, ttl_ms. Returns 1 if the key came online.
_ADD = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local ttl = tonumber(ARGV[2])
local live = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) > now then live = live + 1
  else redis.call('HDEL', KEYS[1], all[i]) end
end
redis.call('HSET', KEYS[1], ARGV[1], string.format('%d', now + ttl))
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
if live == 0 then return 1 end
return 0
"""

# KEYS[1] = presence hash; ARGV = conn. Returns 1 if conn was there and no live conn is left.
_REMOVE = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local all = redis.call('HGETALL', KEYS[1])
for i = 2, #all, 2 do
  if tonumber(all[i]) > now then return 0 end
end
redis.call('DEL', KEYS[1])
return 1
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
    return (items[i : i + size] for i in range(0, len(items), size))


class RedisPresence:
    _redis: Redis
    _presence_prefix: str
    _add: AsyncScript
    _remove: AsyncScript

    def _init_presence(self, redis: Redis, prefix: str) -> None:
        self._presence_prefix = prefix
        self._add = redis.register_script(_ADD)
        self._remove = redis.register_script(_REMOVE)

    # presence ---------------------------------------------------------
    def _key(self, key: str) -> str:
        return f"{self._presence_prefix}presence:{key}"

    async def presence_add(self, key: str, conn: str, ttl: float) -> bool:
        try:
            return bool(await self._add(keys=[self._key(key)], args=[conn, _ms(ttl)]))
        except ERRORS as exc:
            raise BrokerUnavailable(f"redis: {exc}") from exc

    async def presence_remove(self, key: str, conn: str) -> bool:
        """True only on the transition: ``conn`` was registered and no live conn is left."""
        try:
            return bool(await self._remove(keys=[self._key(key)], args=[conn]))
        except ERRORS as exc:
            raise BrokerUnavailable(f"redis: {exc}") from exc

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
