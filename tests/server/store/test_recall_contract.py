"""Recall leaves nothing of the recalled content: not in the message, not in its ``edit``
records (issue 10, item 13) — on both adapters."""

from __future__ import annotations

import uuid
from typing import Any

from parley.server.models import Conversation, Member, NewMessage
from parley.server.ports import Store

APP = "acme"


def record(cmid: str, kind: str, body: dict[str, Any]) -> NewMessage:
    return NewMessage(
        app=APP, conv="c1", mid=uuid.uuid4().hex, sender="alice", cmid=cmid, kind=kind, body=body, ts=1
    )


async def test_recall_scrubs_the_edit_records_of_its_target_only(store: Store) -> None:
    await store.create_conversation(
        Conversation(app=APP, conv="c1", kind="group", epoch="e", created=1),
        [Member(APP, "c1", "alice", "owner", 1)],
    )
    await store.append([record("a", "text", {"text": "the code is 1234"})])  # seq 1
    await store.append([record("b", "text", {"text": "keep me"})])  # seq 2
    for n, (target, text) in enumerate([(1, "corrected code 4321"), (2, "kept edit"), (1, "code 9")]):
        await store.edit_message(APP, "c1", target, {"text": text}, 10 + n)
        await store.append([record(f"edit:{n}", "edit", {"target": target, "body": {"text": text}})])
    # seqs 3, 4, 5: edit of 1, edit of 2, edit of 1

    recalled = await store.recall_message(APP, "c1", 1)
    assert recalled is not None and recalled.recalled and recalled.body == {}

    log = await store.get_messages(APP, "c1", 1, 10)
    assert [m.seq for m in log] == [1, 2, 3, 4, 5]
    for edit in (log[2], log[4]):
        assert edit.kind == "edit" and edit.body == {"target": 1} and edit.recalled
    assert log[3].body == {"target": 2, "body": {"text": "kept edit"}} and not log[3].recalled
    assert log[1].body == {"text": "kept edit"}
    # The texts with their words: bare digits like "1234" also turn up in random hex mids.
    for secret in ("code is 1234", "code 4321", "code 9"):
        assert secret not in repr(log), secret

    # Recalling again (a retry, or a late edit record being scrubbed) changes nothing more.
    assert await store.recall_message(APP, "c1", 1) == recalled
    assert await store.get_messages(APP, "c1", 1, 10) == log
