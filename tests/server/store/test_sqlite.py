"""SQLite-only settings that the contract suite cannot see."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from parley.server.models import App
from parley.server.store.sqlite import WAL_CHECKPOINT_PAGES, SQLiteStore


async def test_wal_mode_with_rare_checkpoints_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "parley.db"
    store = SQLiteStore(str(path))
    await store.open()
    await store.create_app(App(app="app_sqlite", name="shop", secret="s" * 32, created=1))
    await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reopened = SQLiteStore(str(path))
    await reopened.open()
    try:
        pages = await reopened._run(lambda db: db.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        assert pages == WAL_CHECKPOINT_PAGES > 1000
        assert await reopened.get_app("app_sqlite") is not None, "what was written is still there"
    finally:
        await reopened.close()
