"""A recall racing an edit never leaves the edited text readable (issue 10, item 13).

The race is made deterministic with the real SQLite store: a recall lands right after the
edit changed the message and before the edit record is appended (the window the message
service's two store calls leave open)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parley.server.broker.memory import MemoryBroker
from parley.server.errors import ServiceError
from parley.server.models import Conversation, Member, StoredMessage
from parley.server.services.messages import MessageService
from parley.server.store.sqlite import SQLiteStore


class RecallDuringEdit(SQLiteStore):
    """The real store; ``recall_next_edit`` recalls the message just after (or, with
    ``before``, just before) the next ``edit_message`` writes."""

    recall_next_edit = False
    before = False

    async def edit_message(
        self, app: str, conv: str, seq: int, body: dict[str, Any], edited: int
    ) -> StoredMessage | None:
        racing, self.recall_next_edit = self.recall_next_edit, False
        if racing and self.before:
            await self.recall_message(app, conv, seq)
        result = await super().edit_message(app, conv, seq, body, edited)
        if racing and not self.before:
            await self.recall_message(app, conv, seq)
        return result


@pytest.mark.parametrize("before", [False, True], ids=["recall-after-edit-write", "recall-before"])
async def test_a_recall_racing_an_edit_scrubs_it(tmp_path: Path, before: bool) -> None:
    store = RecallDuringEdit(str(tmp_path / "p.db"))
    await store.open()
    try:
        await store.create_conversation(
            Conversation(app="a", conv="c1", kind="group", epoch="e", created=1),
            [Member("a", "c1", "alice", "owner", 1)],
        )
        messages = MessageService(store, MemoryBroker())
        sent = await messages.send("a", "alice", "c1", kind="text", body={"text": "code 1234"})
        store.recall_next_edit, store.before = True, before
        try:
            await messages.edit("a", "alice", "c1", sent.message.seq, {"text": "code 4321"})
        except ServiceError as exc:
            assert before and exc.message == "the message was recalled"
        log = await store.get_messages("a", "c1", 1, 10)
        # With their words: bare digits also turn up in random hex mids.
        assert "code 1234" not in repr(log) and "code 4321" not in repr(log), log
    finally:
        await store.close()
