"""Each adapter is one shared connection object and one small class per role over it.

Not mixins reaching into a host's private attributes: ``SQLiteStore`` and ``MongoStore``
have no base classes, every port method is a role object's own method (served by ``Via``)
(so no extra await on ``append``), and every role runs on the store's one
``SQLiteWorker`` / ``MongoConnection`` (one connection, one write lock, one group commit).
"""

from __future__ import annotations

from typing import Any

import pytest

from parley.server.ports import Store
from parley.server.store.mongo import MongoStore
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.sqlite import SQLiteStore
from parley.server.store.sqlite_worker import SQLiteWorker

#: Every method of the Store port (the union of the role ports).
PORT_METHODS = sorted(n for n in dir(Store) if not n.startswith("_"))
OWN = {"open", "close", "ping"}


def _shared(role: Any) -> object:
    """The connection object a role runs on (whatever it calls it)."""
    for attr in ("_w", "_conn"):
        if hasattr(role, attr):
            return getattr(role, attr)
    return role._run.__self__


@pytest.mark.parametrize("adapter", [SQLiteStore, MongoStore])
def test_adapters_are_assemblies_not_mixins(adapter: type) -> None:
    assert adapter.__bases__ == (object,)


@pytest.mark.parametrize(
    ("store", "kind"),
    [
        (lambda: SQLiteStore(":memory:"), SQLiteWorker),
        (lambda: MongoStore("mongodb://127.0.0.1:1", "x"), MongoConnection),
    ],
)
def test_every_port_method_is_a_role_over_the_one_shared_connection(store: Any, kind: type) -> None:
    made = store()
    shared = {_shared(getattr(made, name).__self__) for name in PORT_METHODS if name not in OWN}
    assert len(shared) == 1 and isinstance(next(iter(shared)), kind)
    roles = {type(getattr(made, name).__self__) for name in PORT_METHODS if name not in OWN}
    assert type(made) not in roles and len(roles) >= 7, "each role is its own small class"
