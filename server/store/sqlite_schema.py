"""SQLite schema and row <-> record conversion for :mod:`parley.server.store.sqlite`.

Structured values (``meta``, ``body``, ``mentions``) are stored as MessagePack
blobs: the wire format, so whatever a client can send (including ``bytes``)
round-trips exactly, as it does through BSON in the Mongo adapter.
"""

from __future__ import annotations

from typing import Any

import msgspec

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
CREATE TABLE IF NOT EXISTS conversations (
    app TEXT NOT NULL, conv TEXT NOT NULL, kind TEXT NOT NULL, epoch TEXT NOT NULL,
    created INTEGER NOT NULL, name TEXT NOT NULL, meta BLOB NOT NULL, created_by TEXT NOT NULL,
    direct_key TEXT, last_seq INTEGER NOT NULL DEFAULT 0,
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
CREATE TABLE IF NOT EXISTS messages (
    app TEXT NOT NULL, conv TEXT NOT NULL, seq INTEGER NOT NULL, mid TEXT NOT NULL,
    sender TEXT NOT NULL, cmid TEXT NOT NULL, kind TEXT NOT NULL, body BLOB NOT NULL,
    ts INTEGER NOT NULL, mentions BLOB NOT NULL, edited INTEGER NOT NULL DEFAULT 0,
    recalled INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_seq ON messages (app, conv, seq);
CREATE UNIQUE INDEX IF NOT EXISTS messages_cmid ON messages (app, conv, sender, cmid);
"""

APP_COLS = "app, name, secret, created"
USER_COLS = "app, user, name, role, meta, created, last_seen"
CONV_COLS = "app, conv, kind, epoch, created, name, meta, created_by, direct_key, last_seq"
MEMBER_COLS = "app, conv, user, role, joined, read_seq"
MSG_COLS = "app, conv, seq, mid, sender, cmid, kind, body, ts, mentions, edited, recalled"

#: Number of columns in CONV_COLS, to split joined rows.
CONV_WIDTH = 10

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder()


def pack(value: Any) -> bytes:
    return _encoder.encode(value)


def unpack_dict(blob: bytes) -> dict[str, Any]:
    value = _decoder.decode(blob)
    return value if isinstance(value, dict) else {}


def unpack_tuple(blob: bytes) -> tuple[str, ...]:
    value = _decoder.decode(blob)
    return tuple(value) if isinstance(value, list) else ()


Row = tuple[Any, ...]


def to_app(r: Row) -> App:
    return App(app=r[0], name=r[1], secret=r[2], created=r[3])


def to_user(r: Row) -> User:
    return User(
        app=r[0], user=r[1], name=r[2], role=r[3], meta=unpack_dict(r[4]), created=r[5], last_seen=r[6]
    )


def to_conversation(r: Row) -> Conversation:
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
    return Member(app=r[0], conv=r[1], user=r[2], role=r[3], joined=r[4], read_seq=r[5])


def to_message(r: Row) -> StoredMessage:
    return StoredMessage(
        app=r[0],
        conv=r[1],
        seq=r[2],
        mid=r[3],
        sender=r[4],
        cmid=r[5],
        kind=r[6],
        body=unpack_dict(r[7]),
        ts=r[8],
        mentions=unpack_tuple(r[9]),
        edited=r[10],
        recalled=bool(r[11]),
    )
