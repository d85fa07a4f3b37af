"""Adapters of the :class:`~parley.server.ports.Store` port: SQLite (embedded default) and MongoDB."""

from __future__ import annotations

from parley.server.ports import Store

__all__ = ["open_store"]


def open_store(
    url: str | None, *, sqlite_path: str, mongo_database: str = "parley", timeout: float = 3.0
) -> Store:
    """The store for ``url``: MongoDB for ``mongodb://`` / ``mongodb+srv://``, else SQLite at ``sqlite_path``.

    The store is not opened: the caller awaits ``open()`` (e.g. in the app lifespan).
    Adapters are imported lazily so that a SQLite deployment never imports pymongo.
    """
    if url and url.startswith(("mongodb://", "mongodb+srv://")):
        from parley.server.store.mongo import MongoStore

        return MongoStore(url, mongo_database, operation_timeout_ms=int(timeout * 1000))
    from parley.server.store.sqlite import SQLiteStore

    return SQLiteStore(sqlite_path)
