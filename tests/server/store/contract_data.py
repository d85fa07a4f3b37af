"""Records and helpers shared by the store contract suites (one suite per role port)."""

from __future__ import annotations

import uuid

from parley.server.models import Conversation, Member, NewMessage
from parley.server.ports import Store

APP = "acme"
EVERYTHING = 10**9


def conv(
    conv_id: str = "c1", *, app: str = APP, kind: str = "group", direct_key: str | None = None
) -> Conversation:
    return Conversation(
        app=app, conv=conv_id, kind=kind, epoch="e1", created=1000, name=conv_id, direct_key=direct_key
    )


def member(
    user: str, conv_id: str = "c1", *, app: str = APP, role: str = "member", joined: int = 1000
) -> Member:
    return Member(app=app, conv=conv_id, user=user, role=role, joined=joined)


def msg(
    cmid: str, *, conv_id: str = "c1", sender: str = "alice", app: str = APP, text: str = "hi"
) -> NewMessage:
    return NewMessage(
        app=app,
        conv=conv_id,
        mid=uuid.uuid4().hex,
        sender=sender,
        cmid=cmid,
        kind="text",
        body={"text": text},
        ts=2000,
    )


async def seqs(store: Store, conv_id: str = "c1", app: str = APP) -> list[int]:
    return [m.seq for m in await store.get_messages(app, conv_id, 1, EVERYTHING)]
