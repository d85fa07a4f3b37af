"""Broker channel names. Every name is scoped by app, so nothing crosses tenants.

* ``c:{app}:{conv}`` — frames for every member connection of a conversation;
* ``u:{app}:{user}`` — frames for every device of one user;
* ``m:{app}:{user}`` — membership control events for a user's nodes (the hub
  decodes these to (un)subscribe the user's connections);
* ``p:{app}:{user}`` — presence changes of a user, for its subscribers.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "Control",
    "control_channel",
    "conv_channel",
    "decode_control",
    "encode_control",
    "presence_channel",
    "user_channel",
]


def conv_channel(app: str, conv: str) -> str:
    """The channel of every member connection of ``conv`` (messages, receipts, typing)."""
    return f"c:{app}:{conv}"


def user_channel(app: str, user: str) -> str:
    """The channel of every device of ``user`` (frames for that user alone)."""
    return f"u:{app}:{user}"


def control_channel(app: str, user: str) -> str:
    """The channel of membership control events for ``user``'s nodes (see :class:`Control`)."""
    return f"m:{app}:{user}"


def presence_channel(app: str, user: str) -> str:
    """The channel of ``user``'s presence changes, for the connections watching them."""
    return f"p:{app}:{user}"


class Control(msgspec.Struct, frozen=True):
    """A membership change for one user, sent on their control channel.

    The hub of every node with a connection of ``user`` (un)subscribes those
    connections to the conversation, then forwards ``frame`` to them.
    """

    op: str  # "join" | "leave" | "sync" (membership) | "recheck" | "close" | "notify" (see parley.server.gateway.enforce)
    app: str
    user: str
    conv: str
    frame: bytes
    #: ``recheck``: the other user of a new block, whose presence ``user`` stops watching.
    peer: str = ""
    #: ``close``: the close code and reason; ``frame`` is the error frame sent before.
    code: int = 0
    reason: str = ""
    #: ``close``: only connections whose token was issued (``iat``, s) before this; 0: all.
    before: int = 0


_control_decoder = msgspec.msgpack.Decoder(Control)


def encode_control(control: Control) -> bytes:
    """``control`` as MessagePack, to publish on a control channel."""
    return msgspec.msgpack.encode(control)


def decode_control(data: bytes) -> Control:
    """A :class:`Control` from bytes read on a control channel; a ``msgspec.MsgspecError`` if malformed."""
    return _control_decoder.decode(data)
