"""LeaseService: validation with ``lease_invalid``, the service's clock, renewal and take-over,
release by the holder only, and ``lease_not_found`` for a lease nobody holds."""

from __future__ import annotations

import pytest

from parley.proto.errors import ErrorCode
from parley.server.lease_port import Lease
from parley.server.services.leases import LeaseService
from parley.server.store.sqlite import SQLiteStore
from tests.server.services.conftest import refused

A = "app1"
T0 = 1_700_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def leases(store: SQLiteStore, clock: Clock) -> LeaseService:
    return LeaseService(store, clock=clock)


async def test_the_holder_renews_others_wait_and_take_over_once_it_ran_out(
    leases: LeaseService, clock: Clock
) -> None:
    assert await leases.acquire(A, "support-bot", "host-a:12", 15) == Lease(
        A, "support-bot", "host-a:12", T0 + 15_000
    )
    clock.now += 5_000
    assert (await leases.acquire(A, "support-bot", "host-b:7", 15)).holder == "host-a:12", (
        "refused while live"
    )
    assert (await leases.acquire(A, "support-bot", "host-a:12", 15)).until == T0 + 20_000, (
        "renewed by its clock"
    )
    assert await leases.get(A, "support-bot") == Lease(A, "support-bot", "host-a:12", T0 + 20_000)
    clock.now = T0 + 20_000
    with refused(ErrorCode.LEASE_NOT_FOUND, "nobody holds"):
        await leases.get(A, "support-bot")  # expired: nobody holds it
    taken = await leases.acquire(A, "support-bot", "host-b:7", 1)
    assert taken == Lease(A, "support-bot", "host-b:7", T0 + 21_000)


async def test_only_the_holder_releases(leases: LeaseService) -> None:
    await leases.acquire(A, "bot", "p1", 15)
    assert not await leases.release(A, "bot", "p2")
    assert await leases.release(A, "bot", "p1")
    assert not await leases.release(A, "bot", "p1")
    with refused(ErrorCode.LEASE_NOT_FOUND):
        await leases.get(A, "bot")
    with refused(ErrorCode.LEASE_NOT_FOUND):
        await leases.get("app2", "never")


@pytest.mark.parametrize(
    ("name", "holder", "ttl_s", "match"),
    [
        ("", "p1", 15, "lease name"),
        ("x" * 65, "p1", 15, "lease name"),
        ("has space", "p1", 15, "lease name"),
        ("a/b", "p1", 15, "lease name"),
        ("bot", "", 15, "holder"),
        ("bot", "h" * 129, 15, "holder"),
        ("bot", "tab\there", 15, "holder"),
        ("bot", "del\x7f", 15, "holder"),
        ("bot", "p1", 0, "ttl_s"),
        ("bot", "p1", 301, "ttl_s"),
        ("bot", "p1", True, "ttl_s"),
    ],
)
async def test_bad_input_is_lease_invalid_and_changes_nothing(
    leases: LeaseService, store: SQLiteStore, name: str, holder: str, ttl_s: int, match: str
) -> None:
    with refused(ErrorCode.LEASE_INVALID, match):
        await leases.acquire(A, name, holder, ttl_s)
    assert await store.get_lease(A, name) is None


async def test_the_limits_themselves_are_accepted(leases: LeaseService) -> None:
    name, holder = "A-z.0_9:" + "x" * 56, "ünïcode holder " + "h" * 113
    assert len(name) == 64 and len(holder) == 128
    assert (await leases.acquire(A, name, holder, 300)).until == T0 + 300_000
    assert (await leases.acquire(A, "one-second", "p1", 1)).until == T0 + 1_000
    with refused(ErrorCode.LEASE_INVALID, "holder"):
        await leases.release(A, "bot", "")
    with refused(ErrorCode.LEASE_INVALID, "lease name"):
        await leases.get(A, "bad name")
