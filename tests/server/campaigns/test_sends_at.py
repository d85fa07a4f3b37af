"""Which sends a goal event at ``ts`` must look at (pure): a campaign over long before the longest goal
window or not started by ``ts`` is skipped; of a recurring one, only the occurrences open in the window."""

from __future__ import annotations

import msgspec

from parley.server.campaign_port import Campaign
from parley.server.services.campaign_defs import MAX_GOAL_WINDOW_S
from parley.server.services.campaign_schedule import Recurrence
from parley.server.services.conversions import sends_at
from tests.server.services.test_campaigns import definition

DAY = 86_400_000
WINDOW = MAX_GOAL_WINDOW_S * 1000


def stored(state: str, start: int, updated: int, cursor: str = "", **more: object) -> tuple[Campaign, object]:
    body = definition(["p1"], start_at=start, **more)
    return Campaign("a", "c", state, start, msgspec.to_builtins(body), cursor=cursor, updated=updated), body


def test_one_off_campaigns() -> None:
    ts = 1000 * DAY
    for state, start, updated, expected in [
        ("done", 950 * DAY, 951 * DAY, ["campaign:c"]),  # ended within the window
        ("done", 100 * DAY, 101 * DAY, []),  # over long before it
        ("running", 100 * DAY, 101 * DAY, ["campaign:c"]),  # still sending: may touch any time
        ("scheduled", 1001 * DAY, 1 * DAY, []),  # not started by ts
    ]:
        campaign, body = stored(state, start, updated)
        assert sends_at(campaign, body, ts) == expected, (state, start)  # type: ignore[arg-type]


def test_recurring_occurrences_in_the_window() -> None:
    start = 1000 * DAY
    campaign, body = stored(
        "running", start, start, cursor="199/", recurrence=Recurrence("day", max_occurrences=500)
    )
    ts = start + 150 * DAY + 5
    keys = sends_at(campaign, body, ts)  # type: ignore[arg-type]
    # occurrence n's decisions come before n + 1 opens: n = 60 is the first whose next opening
    # (day 61) is within 90 days before ts (day 150 + 5 ms); 150 is the last opened by ts
    assert WINDOW == 90 * DAY
    assert keys == [f"campaign:c@{n}" for n in range(60, 151)]
