"""The conversion listener and the delivered counter stop on shutdown even when the store never
answers (a node whose MongoDB died must still exit)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from parley.server.events_models import Event
from parley.server.models import StoredMessage
from parley.server.services.conversions import ConversionAttributor
from parley.server.services.delivered import DeliveredCounter
from parley.server.services.measurement import Measurement

pytestmark = pytest.mark.timeout(30)


class DeadStore:
    """A store whose every call waits forever (a database that stopped answering)."""

    def __getattr__(self, name: str) -> Any:
        async def hang(*args: Any, **kwargs: Any) -> Any:
            await asyncio.Event().wait()

        return hang


async def test_both_stop_within_their_bound_when_the_store_hangs() -> None:
    store: Any = DeadStore()
    measure = Measurement(store, store, officials=store, conversations=store)
    conversions = ConversionAttributor(store, measure)
    conversions.on_events([Event("a", f"e{i}", "p", "buy", 1) for i in range(3)])
    delivered = DeliveredCounter(measure, store, store)
    body = {"text": "x", "campaign": {"id": "c1", "variant": "a"}}
    delivered.returned("a", "ann", [StoredMessage("a", "c", 1, "m1", "brand", "", "text", body, 1)])
    await asyncio.sleep(0)
    await conversions.close(timeout=0.2)
    await delivered.close(timeout=0.2)
    assert conversions._task is not None and conversions._task.done()
    assert not delivered._tasks
