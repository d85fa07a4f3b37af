"""Recall on SQLite: the tombstone and the scrub of the target's ``edit`` records, one transaction.

An ``edit`` record carries the new body (``{"target": seq, "body": {...}}``), so tombstoning
the message alone left its corrected text readable in history and sync. A recall therefore
also rewrites every edit record of its target to ``{"target": seq}`` with ``recalled`` set.
Edit records only exist after the message was edited (``edited`` is set before the record is
appended), so an unedited message costs nothing more; an edited one costs a scan of the
conversation's log after it, on the primary index, unpacking only ``edit`` rows.
"""

from __future__ import annotations

import sqlite3

from parley.server.models import StoredMessage
from parley.server.store.sqlite_schema import LOG_COLS, pack, to_message, unpack_dict

__all__ = ["recall"]

_TOMBSTONE = "UPDATE message_log SET body = ?, recalled = 1 WHERE ckey = ? AND seq = ?"
_SELECT = f"SELECT {LOG_COLS} FROM message_log WHERE ckey = ? AND seq = ?"
_EDITS = "SELECT seq, body FROM message_log WHERE ckey = ? AND seq > ? AND kind = 'edit' AND NOT recalled"
_SCRUB = "UPDATE message_log SET body = ?, recalled = 1 WHERE ckey = ? AND seq = ?"
#: Column of ``edited`` in ``LOG_COLS``.
_EDITED = 8


def recall(db: sqlite3.Connection, ckey: int | None, app: str, conv: str, seq: int) -> StoredMessage | None:
    """Tombstone message ``seq`` and scrub its edit records (idempotent); None if absent."""
    if ckey is None:
        return None
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(_TOMBSTONE, (pack({}), ckey, seq))
        row = db.execute(_SELECT, (ckey, seq)).fetchone()
        if row is not None and row[_EDITED]:
            scrubbed = pack({"target": seq})
            for edit_seq, body in db.execute(_EDITS, (ckey, seq)).fetchall():
                if unpack_dict(body).get("target") == seq:
                    db.execute(_SCRUB, (scrubbed, ckey, edit_seq))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return to_message(app, conv, row) if row else None
