"""MongoDB collections, indexes and document <-> record conversion for the Mongo adapter.

Every collection is keyed by natural ids under unique indexes (``_id`` stays an
ObjectId and is projected away). Queries use equality on an index prefix and
at most one ``$in`` / range on the next field: SecantusDB (the test server)
scans the collection for ``$or`` or an ``$in`` on an earlier field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING, IndexModel

from parley.proto.plain import repair
from parley.server.models import App, Conversation, Member, NewMessage, StoredMessage, User

APPS = "apps"
API_KEYS = "api_keys"
USERS = "users"
CONVERSATIONS = "conversations"
MEMBERS = "members"
MESSAGES = "messages"

#: Projection that drops Mongo's ``_id``.
NO_ID: dict[str, Any] = {"_id": 0}

Doc = Mapping[str, Any]


def _index(*fields: str, name: str, unique: bool = False, **kwargs: Any) -> IndexModel:
    return IndexModel([(f, ASCENDING) for f in fields], name=name, unique=unique, **kwargs)


INDEXES: dict[str, list[IndexModel]] = {
    APPS: [_index("app", name="app", unique=True)],
    API_KEYS: [_index("key_hash", name="key_hash", unique=True)],
    USERS: [_index("app", "user", name="app_user", unique=True)],
    CONVERSATIONS: [
        _index("app", "conv", name="app_conv", unique=True),
        # Partial: only direct conversations carry a direct_key (the field is
        # omitted otherwise), so a pair of users has at most one per app.
        _index(
            "app",
            "direct_key",
            name="app_direct_key",
            unique=True,
            partialFilterExpression={"direct_key": {"$type": "string"}},
        ),
    ],
    MEMBERS: [
        _index("app", "conv", "user", name="app_conv_user", unique=True),
        _index("app", "user", name="app_user"),
    ],
    MESSAGES: [
        # The seq index is what makes seq assignment gap- and duplicate-free.
        _index("app", "conv", "seq", name="app_conv_seq", unique=True),
        _index("app", "conv", "sender", "cmid", name="app_conv_sender_cmid", unique=True),
    ],
}


def plain_dict(value: Any) -> dict[str, Any]:
    """A stored ``meta`` / ``body`` with plain Python values only.

    BSON decodes integers beyond 32 bits as ``bson.Int64`` (an int subclass that
    msgspec refuses to encode) and ``{"$ref", "$id"}`` as a ``DBRef``; values
    written before bodies were validated may nest too deeply. ``repair`` makes
    every one of them plain (one walk, which converting Int64 needed anyway)."""
    return repair(value) if isinstance(value, dict) else {}


def to_app(d: Doc) -> App:
    """The :class:`App` of an ``apps`` document (``created`` as a plain int)."""
    return App(app=d["app"], name=d["name"], secret=d["secret"], created=int(d["created"]))


def from_app(a: App) -> dict[str, Any]:
    """The ``apps`` document of ``a`` (the inverse of :func:`to_app`)."""
    return {"app": a.app, "name": a.name, "secret": a.secret, "created": a.created}


def to_user(d: Doc) -> User:
    """The :class:`User` of a ``users`` document, with plain-typed ``meta``; fields a bare
    ``set_last_seen`` row lacks get their defaults (role ``user``, empty name and meta).
    """
    return User(
        app=d["app"],
        user=d["user"],
        name=d.get("name", ""),
        role=d.get("role", "user"),
        meta=plain_dict(d.get("meta")),
        created=int(d.get("created", 0)),
        last_seen=int(d.get("last_seen", 0)),
    )


def to_conversation(d: Doc) -> Conversation:
    """The :class:`Conversation` of a ``conversations`` document, with plain-typed ``meta`` and ints."""
    return Conversation(
        app=d["app"],
        conv=d["conv"],
        kind=d["kind"],
        epoch=d["epoch"],
        created=int(d["created"]),
        name=d.get("name", ""),
        meta=plain_dict(d.get("meta")),
        created_by=d.get("created_by", ""),
        direct_key=d.get("direct_key"),
        last_seq=int(d.get("last_seq", 0)),
    )


def from_conversation(c: Conversation) -> dict[str, Any]:
    """The document inserted for a new conversation: ``last_seq`` starts at 0 whatever ``c`` says
    (``append`` alone advances it), and ``direct_key`` is left out for groups so the unique partial
    index applies only to direct conversations.
    """
    doc: dict[str, Any] = {
        "app": c.app,
        "conv": c.conv,
        "kind": c.kind,
        "epoch": c.epoch,
        "created": c.created,
        "name": c.name,
        "meta": c.meta,
        "created_by": c.created_by,
        "last_seq": 0,
    }
    if c.direct_key is not None:
        doc["direct_key"] = c.direct_key
    return doc


def to_member(d: Doc) -> Member:
    """The :class:`Member` of a ``members`` document (``read_seq`` 0 if never set)."""
    return Member(
        app=d["app"],
        conv=d["conv"],
        user=d["user"],
        role=d["role"],
        joined=int(d["joined"]),
        read_seq=int(d.get("read_seq", 0)),
    )


def from_member(m: Member) -> dict[str, Any]:
    """The ``members`` document of ``m`` (the inverse of :func:`to_member`)."""
    return {
        "app": m.app,
        "conv": m.conv,
        "user": m.user,
        "role": m.role,
        "joined": m.joined,
        "read_seq": m.read_seq,
    }


def to_message(d: Doc) -> StoredMessage:
    """The :class:`StoredMessage` of a ``messages`` document, with a plain-typed ``body``."""
    return StoredMessage(
        app=d["app"],
        conv=d["conv"],
        seq=int(d["seq"]),
        mid=d["mid"],
        sender=d["sender"],
        cmid=d["cmid"],
        kind=d["kind"],
        body=plain_dict(d.get("body")),
        ts=int(d["ts"]),
        mentions=tuple(d.get("mentions") or ()),
        edited=int(d.get("edited", 0)),
        recalled=bool(d.get("recalled", False)),
    )


def from_new_message(m: NewMessage, seq: int) -> dict[str, Any]:
    """The ``messages`` document inserted for ``m`` at ``seq``: not edited, not recalled."""
    return {
        "app": m.app,
        "conv": m.conv,
        "seq": seq,
        "mid": m.mid,
        "sender": m.sender,
        "cmid": m.cmid,
        "kind": m.kind,
        "body": m.body,
        "ts": m.ts,
        "mentions": list(m.mentions),
        "edited": 0,
        "recalled": False,
    }


def stored(m: NewMessage, seq: int) -> StoredMessage:
    """The record of ``m`` as just inserted with ``seq``."""
    return StoredMessage(
        app=m.app,
        conv=m.conv,
        seq=seq,
        mid=m.mid,
        sender=m.sender,
        cmid=m.cmid,
        kind=m.kind,
        body=m.body,
        ts=m.ts,
        mentions=tuple(m.mentions),
    )
