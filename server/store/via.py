"""How an adapter's store class serves a port method from one of its role objects.

``SQLiteStore`` / ``MongoStore`` are assemblies: one shared connection object and one small
class per role. ``append = Via("_messages", SQLiteMessageLog.append)`` makes ``store.append``
the role object's own bound method: no wrapper, no extra await or frame per call. On the
class it is the role's function, so ``inspect`` (``Instrumented`` times every coroutine
method it finds on the class) and subclasses (``super().append(...)``) see an ordinary method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

__all__ = ["Via"]

P = ParamSpec("P")
T = TypeVar("T")


class Via(Generic[P, T]):
    """A class attribute serving ``fn`` from the instance's role object named ``role``."""

    __slots__ = ("_fn", "_name", "_role")

    def __init__(self, role: str, fn: Callable[Concatenate[Any, P], T]) -> None:
        self._role = role
        self._fn = fn
        self._name = fn.__name__

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Callable[Concatenate[Any, P], T]: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> Callable[P, T]: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        """The role's function on the class; the role object's bound method on an instance."""
        if obj is None:
            return self._fn
        return getattr(getattr(obj, self._role), self._name)
