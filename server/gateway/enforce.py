"""What the abuse controls' control events do to a user's live connections on this node.

The hub hands every control event whose ``op`` is not a membership change
(``join`` / ``leave``) to :func:`apply`, once per local connection of the user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.server.channels import Control, presence_channel
from parley.server.gateway.connection import Connection

if TYPE_CHECKING:
    from parley.server.gateway.hub import Hub

__all__ = ["apply"]


def apply(hub: Hub, conn: Connection, control: Control) -> None:
    """``recheck``: forget the conversations checked so far (a block or mute may forbid one now)
    and stop delivering ``peer``'s presence. ``close``: send the error frame and close with the
    code (connections whose token predates ``before``, or all when it is 0). ``notify``: push
    the frame (an ``invited`` event). Unknown ops are
    ignored (a newer node sent them)."""
    if control.op == "recheck":
        conn.cleared = set()  # a new set: a check still running adds to the old one
        if control.peer and control.peer in conn.presence_subs:
            conn.presence_subs.discard(control.peer)
            hub.detach(conn, [presence_channel(control.app, control.peer)])
    elif control.op == "notify":  # e.g. an invitation: only the frame, no membership change
        conn.push(control.frame)
    elif control.op == "close" and (not control.before or conn.iat < control.before):
        conn.push(control.frame)
        conn.close(control.code, control.reason[:120])
