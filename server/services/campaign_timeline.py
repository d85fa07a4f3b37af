"""A campaign's results over time: per hour or day, how many recipients were sent, delivered, read,
clicked, replied and converted in that bucket.

Each count is a row of the delivery ledger with its time: ``sent`` is a row of the send
(``campaign:<cid>``, or each occurrence's key) whose decision was ``sent``, at its decision time;
the others are the measurement rows (``m:<source>:<kind>``, one per recipient and kind) at the
time they were counted — the event's own time for a conversion, the push or fetch time for a
delivery. The walk pages each key (never the whole ledger in memory); buckets are UTC hours or UTC
days, ``start`` the bucket's first millisecond. The list is dense from the first bucket with a
count to the last (empty buckets in between are zeros, so a chart's axis is even), at most
:data:`MAX_BUCKETS` long.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from parley.proto.errors import ErrorCode
from parley.server.activation_port import PENDING, DeliveryLedger
from parley.server.errors import ServiceError
from parley.server.services.measurement import measure_key

__all__ = ["BUCKETS", "MAX_BUCKETS", "TIMELINE_KINDS", "bucket_ms", "timeline"]

#: The bucket sizes ``?bucket=`` takes, in ms.
BUCKETS = {"hour": 3_600_000, "day": 86_400_000}
#: The most buckets one timeline holds (a year of hours); a longer one asks for ``bucket=day``.
MAX_BUCKETS = 9_000
#: The counts of a bucket, in funnel order.
TIMELINE_KINDS = ("sent", "delivered", "read", "clicked", "replied", "converted")
_PAGE = 500


def bucket_ms(name: str) -> int:
    """The size of bucket ``name`` (``hour`` or ``day``); ``invalid_request`` for anything else."""
    size = BUCKETS.get(name)
    if size is None:
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"bucket must be 'hour' or 'day', not {name!r}")
    return size


async def _walk(
    store: DeliveryLedger, app: str, key: str, size: int, counts: Counter[int], sent: bool
) -> None:
    after = ""
    while page := await store.list_deliveries(app, key, after=after, limit=_PAGE):
        after = page[-1].pid
        for row in page:
            if (row.state == "sent") if sent else (row.state != PENDING):
                counts[row.updated // size * size] += 1


async def timeline(
    store: DeliveryLedger, app: str, sources: Sequence[str], size: int
) -> list[dict[str, Any]]:
    """The buckets of ``sources`` (send keys, e.g. every occurrence of a campaign), ``size`` ms each."""
    per_kind: dict[str, Counter[int]] = {kind: Counter() for kind in TIMELINE_KINDS}
    for source in sources:
        await _walk(store, app, source, size, per_kind["sent"], True)
        for kind in TIMELINE_KINDS[1:]:
            await _walk(store, app, measure_key(source, kind), size, per_kind[kind], False)
    starts = {start for counts in per_kind.values() for start in counts}
    if not starts:
        return []
    first, last = min(starts), max(starts)
    if (last - first) // size + 1 > MAX_BUCKETS:
        raise ServiceError(
            ErrorCode.INVALID_REQUEST,
            f"the timeline spans more than {MAX_BUCKETS} buckets: ask for bucket=day",
        )
    return [
        {"start": start, **{kind: per_kind[kind][start] for kind in TIMELINE_KINDS}}
        for start in range(first, last + size, size)
    ]
