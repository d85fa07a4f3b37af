"""Mapping of driver failures to the port's ``StoreUnavailable``."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

from pymongo.errors import ConnectionFailure, PyMongoError

from parley.server.ports import StoreUnavailable

__all__ = ["guarded"]

P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S")


def guarded(
    fn: Callable[Concatenate[S, P], Awaitable[T]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """Turn "cannot reach the server / timed out" into ``StoreUnavailable``."""

    @functools.wraps(fn)
    async def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(self, *args, **kwargs)
        except ConnectionFailure as exc:  # AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError
            raise StoreUnavailable(f"mongo: {exc}") from exc
        except PyMongoError as exc:
            if exc.timeout:  # e.g. ExecutionTimeout (maxTimeMS), the client-side operation timeout
                raise StoreUnavailable(f"mongo: {exc}") from exc
            raise

    return wrapper
