"""SQLite schema and row <-> record conversion for :mod:`parley.server.store.sqlite`.

Structured values (``meta``, ``body``, ``mentions``) are stored as MessagePack
blobs: the wire format, so whatever a client can send (including ``bytes``)
round-trips exactly, as it does through BSON in the Mongo adapter.
"""

from __future__ import annotations

from typing import Any

import msgspec

from parley.proto.plain import repaired
from parley.server.models import App, Conversation, Member, StoredMessage, User

SCHEMA = """
CREATE TABLE IF NOT EXISTS apps (
    app TEXT PRIMARY KEY, name TEXT NOT NULL, secret TEXT NOT NULL, created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    key_hash TEXT PRIMARY KEY, app TEXT NOT NULL, created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    app TEXT NOT NULL, user TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL,
    meta BLOB NOT NULL, created INTEGER NOT NULL, last_seen INTEGER NOT NULL,
    PRIMARY KEY (app, user)
);
-- ckey: the conversation's integer key in message_log (assigned max + 1 at creation; an
-- explicit column, since VACUUM may renumber the rowids of a table like this one).
CREATE TABLE IF NOT EXISTS conversations (
    app TEXT NOT NULL, conv TEXT NOT NULL, kind TEXT NOT NULL, epoch TEXT NOT NULL,
    created INTEGER NOT NULL, name TEXT NOT NULL, meta BLOB NOT NULL, created_by TEXT NOT NULL,
    direct_key TEXT, last_seq INTEGER NOT NULL DEFAULT 0, ckey INTEGER,
    PRIMARY KEY (app, conv)
);
-- NULLs are distinct in a unique index, so only direct conversations are constrained.
CREATE UNIQUE INDEX IF NOT EXISTS conversations_direct ON conversations (app, direct_key);
CREATE TABLE IF NOT EXISTS members (
    app TEXT NOT NULL, conv TEXT NOT NULL, user TEXT NOT NULL, role TEXT NOT NULL,
    joined INTEGER NOT NULL, read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app, conv, user)
);
CREATE INDEX IF NOT EXISTS members_user ON members (app, user);
-- Messages keyed by the conversation's integer ckey, not (app, conv): index entries a third
-- of the size, and appends that cost ~40 % less (docs/ARCHITECTURE.md, "The embedded store").
CREATE TABLE IF NOT EXISTS message_log (
    ckey INTEGER NOT NULL, seq INTEGER NOT NULL, mid TEXT NOT NULL,
    sender TEXT NOT NULL, cmid TEXT NOT NULL, kind TEXT NOT NULL, body BLOB NOT NULL,
    ts INTEGER NOT NULL, mentions BLOB NOT NULL, edited INTEGER NOT NULL DEFAULT 0,
    recalled INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS message_log_seq ON message_log (ckey, seq);
CREATE UNIQUE INDEX IF NOT EXISTS message_log_cmid ON message_log (ckey, sender, cmid);
"""

#: Run after SCHEMA: databases written before message_log (messages keyed by app and conv)
#: move their messages over, in one transaction. Idempotent.
MIGRATIONS = (
    "UPDATE conversations SET ckey = rowid WHERE ckey IS NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS conversations_ckey ON conversations (ckey)",
)
MIGRATE_MESSAGES = (
    "INSERT INTO message_log SELECT c.ckey, m.seq, m.mid, m.sender, m.cmid, m.kind, m.body, m.ts, "
    "m.mentions, m.edited, m.recalled FROM messages m JOIN conversations c ON c.app = m.app AND c.conv = m.conv",
    "DROP TABLE messages",
)

APP_COLS = "app, name, secret, created"
USER_COLS = "app, user, name, role, meta, created, last_seen"
CONV_COLS = "app, conv, kind, epoch, created, name, meta, created_by, direct_key, last_seq"
MEMBER_COLS = "app, conv, user, role, joined, read_seq"
LOG_COLS = "seq, mid, sender, cmid, kind, body, ts, mentions, edited, recalled"

#: Number of columns in CONV_COLS, to split joined rows.
CONV_WIDTH = 10

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder()


def pack(value: Any) -> bytes:
    """``value`` as msgpack bytes, the encoding of every BLOB column (meta, bodies, mentions)."""
    return _encoder.encode(value)


def unpack_dict(blob: bytes) -> dict[str, Any]:
    """A stored body or meta, repaired if a client could not decode it (written before values
    were validated: an integer past int64, nesting past the limit; see ``proto.plain.repair``)."""
    value = _decoder.decode(blob)
    return repaired(value) if isinstance(value, dict) else {}


def unpack_tuple(blob: bytes) -> tuple[str, ...]:
    """A stored ``mentions`` list as a tuple of user ids; ``()`` for anything that is not a list."""
    value = _decoder.decode(blob)
    return tuple(value) if isinstance(value, list) else ()


Row = tuple[Any, ...]


def to_app(r: Row) -> App:
    """The :class:`App` of an ``apps`` row (``APP_COLS`` order)."""
    return App(app=r[0], name=r[1], secret=r[2], created=r[3])


def to_user(r: Row) -> User:
    """The :class:`User` of a ``users`` row (``USER_COLS`` order), with ``meta`` unpacked and repaired."""
    return User(
        app=r[0], user=r[1], name=r[2], role=r[3], meta=unpack_dict(r[4]), created=r[5], last_seen=r[6]
    )


def to_conversation(r: Row) -> Conversation:
    """The :class:`Conversation` of a ``conversations`` row (``CONV_COLS`` order), with ``meta`` unpacked."""
    return Conversation(
        app=r[0],
        conv=r[1],
        kind=r[2],
        epoch=r[3],
        created=r[4],
        name=r[5],
        meta=unpack_dict(r[6]),
        created_by=r[7],
        direct_key=r[8],
        last_seq=r[9],
    )


def to_member(r: Row) -> Member:
    """The :class:`Member` of a ``members`` row (``MEMBER_COLS`` order)."""
    return Member(app=r[0], conv=r[1], user=r[2], role=r[3], joined=r[4], read_seq=r[5])


def to_message(app: str, conv: str, r: Row) -> StoredMessage:
    """A ``message_log`` row (``LOG_COLS``) of conversation ``(app, conv)``."""
    return StoredMessage(
        app=app,
        conv=conv,
        seq=r[0],
        mid=r[1],
        sender=r[2],
        cmid=r[3],
        kind=r[4],
        body=unpack_dict(r[5]),
        ts=r[6],
        mentions=unpack_tuple(r[7]),
        edited=r[8],
        recalled=bool(r[9]),
    )
