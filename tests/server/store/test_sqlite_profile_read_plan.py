"""Reading one audience profile on SQLite touches that profile's rows only, however many
profiles the app has: every statement of ``read_profile`` is a key lookup on ``(app, pid)``.

Found by the campaign benchmark (docs/BENCHMARKS.md): the identifiers were read ``ORDER BY kind,
value``, which SQLite answered by walking the primary key ``(app, kind, value)`` — every identifier
of the app — rather than the ``(app, pid)`` index and a sort of a handful of rows; with 100 000
profiles the policy chain's two profile reads per recipient made a campaign send ~20 a second.
The plans are read with ``EXPLAIN QUERY PLAN`` on the statements the read actually ran.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from parley.server.audience_models import ConsentEntry, ProfileChange
from parley.server.store.sqlite import SQLiteStore
from parley.server.store.sqlite_audience_rows import read_profile


async def test_every_statement_of_a_profile_read_is_a_lookup_by_app_and_pid(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "p.db"))
    await store.open()
    try:
        pids = []
        for i in range(30):
            pid, _ = await store.resolve_or_create("a1", "user", f"u{i}", 1)
            await store.attach_identifier("a1", pid, "email", f"u{i}@example.com", 1)
            change = ProfileChange(now=1, consent=(ConsentEntry("marketing", "granted", 1, "api", "t"),))
            await store.update_audience_profile("a1", pid, change)
            pids.append(pid)
    finally:
        await store.close()
    db = sqlite3.connect(tmp_path / "p.db")
    ran: list[str] = []
    db.set_trace_callback(ran.append)
    profile = read_profile(db, "a1", pids[7])
    db.set_trace_callback(None)
    assert profile is not None and [i.value for i in profile.ids] == ["u7@example.com", "u7"]
    selects = [s for s in ran if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) >= 6
    for statement in selects:
        plan = " ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + statement))
        assert "pid=?" in plan, f"not a lookup by (app, pid): {statement!r} -> {plan}"
    db.close()
