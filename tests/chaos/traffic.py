"""Continuous SDK traffic and the delivery-contract check that follows the chaos.

:class:`Traffic` connects one SDK client per device (through the load
balancer), lets every user send continuously with unique cmids into its direct
and group conversations, and records every send's outcome (acked with a seq,
or failed) and every :class:`MessageEvent` each device sees, per conversation,
in arrival order. :func:`check` then compares the senders' acks, the devices'
views and the store, and returns the counts that the contract pins.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from parley.sdk import Client, ClientState, MessageEvent
from parley.server.auth.tokens import issue_token
from parley.server.models import App
from parley.server.ports import Store

__all__ = ["Counts", "Device", "Traffic", "check", "until"]


async def until(cond: Callable[[], object], timeout: float = 10.0, *, check: bool = True) -> bool:
    """Poll ``cond`` until truthy; False (or AssertionError if ``check``) after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            if check:
                raise AssertionError(f"condition not met within {timeout} s")
            return False
        await asyncio.sleep(0.02)
    return True


@dataclasses.dataclass
class Device:
    user: str
    name: str
    client: Client
    #: conv -> [(seq, cmid)] in arrival order
    seen: dict[str, list[tuple[int, str]]] = dataclasses.field(default_factory=lambda: defaultdict(list))
    #: conv -> position right after the first connect (messages up to it predate the test)
    baseline: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def node(self) -> str:
        w = self.client.welcome
        return w.node if w is not None else ""


@dataclasses.dataclass
class Attempt:
    sender: str
    conv: str
    cmid: str
    seq: int | None = None
    error: str = ""


class Traffic:
    """Users, their conversations and devices, and the senders' loops."""

    def __init__(
        self,
        url: str,
        app: App,
        *,
        users: int = 20,
        group_size: int = 6,
        extra_devices: int = 2,
        pause: float = 0.05,
        send_timeout: float = 20.0,
        body_size: int = 0,
    ) -> None:
        self.url = url
        self.app = app
        self.users = [f"u{i:02d}" for i in range(users)]
        self.group_size = group_size
        self.extra_devices = extra_devices
        self.pause = pause
        self.send_timeout = send_timeout
        self.padding = "x" * body_size
        self.convs: dict[str, set[str]] = {}  # conv -> members
        self.user_convs: dict[str, list[str]] = defaultdict(list)
        self.devices: list[Device] = []
        self.attempts: list[Attempt] = []
        self._senders: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()

    def token(self, user: str) -> str:
        return issue_token(self.app, user, ttl=3600)[0]

    def client(self, user: str, device: str) -> Client:
        return Client(
            self.url, token=self.token(user), device=device, min_reconnect_delay=0.05,
            max_reconnect_delay=0.5, request_timeout=5.0, send_timeout=self.send_timeout,
            connect_timeout=30.0,
        )  # fmt: skip

    async def setup(self) -> None:
        """Create the conversations (directs in pairs, groups in overlapping rings), connect devices."""
        creators: dict[str, Client] = {}
        try:
            for user in self.users:
                creators[user] = self.client(user, "setup")
            await asyncio.gather(*(c.connect() for c in creators.values()))
            n = len(self.users)
            for i in range(0, n - 1, 2):
                a, b = self.users[i], self.users[i + 1]
                conv = (await creators[a].create_direct(b)).conv
                self._add(conv, {a, b})
            step = max(1, self.group_size - 2)  # groups overlap by two members
            for g, start in enumerate(range(0, n, step)):
                members = {self.users[(start + k) % n] for k in range(self.group_size)}
                owner = self.users[start]
                conv = (await creators[owner].create_group(f"g{g}", sorted(members - {owner}))).conv
                self._add(conv, members)
        finally:
            await asyncio.gather(*(c.close() for c in creators.values()))
        plan = [(u, "main") for u in self.users]
        plan += [(self.users[k], f"extra{k}") for k in range(self.extra_devices)]
        for user, name in plan:
            device = Device(user, name, self.client(user, name))
            device.client.on(MessageEvent, _recorder(device))
            self.devices.append(device)
        await asyncio.gather(*(d.client.connect() for d in self.devices))
        for d in self.devices:
            d.baseline = {c: s for c, (s, _) in d.client.positions.items()}
            missing = [c for c in self.user_convs[d.user] if c not in d.baseline]
            assert not missing, f"{d.user}/{d.name} does not track {missing}"

    def _add(self, conv: str, members: set[str]) -> None:
        self.convs[conv] = members
        for m in members:
            self.user_convs[m].append(conv)

    def start(self) -> None:
        for d in self.devices:
            if d.name == "main":
                self._senders.append(asyncio.create_task(self._send_loop(d)))

    async def stop(self, timeout: float | None = None) -> None:
        """Stop sending; wait (bounded by the send timeout) for sends in flight to settle."""
        self._stop.set()
        limit = timeout if timeout is not None else self.send_timeout + 10
        done, pending = await asyncio.wait(self._senders, timeout=limit)
        for t in pending:
            t.cancel()
        for t in done:
            t.result()

    async def close(self) -> None:
        for t in self._senders:
            t.cancel()
        await asyncio.gather(*(d.client.close() for d in self.devices), return_exceptions=True)

    async def _send_loop(self, device: Device) -> None:
        convs = self.user_convs[device.user]
        i = 0
        while not self._stop.is_set():
            conv = convs[i % len(convs)]
            cmid = f"{device.user}-{i}"
            attempt = Attempt(device.user, conv, cmid)
            self.attempts.append(attempt)
            i += 1
            try:
                sent = await device.client.send(conv, cmid + self.padding, cmid=cmid)
                attempt.seq = sent.seq
            except Exception as exc:  # ConnectionClosed, RequestTimeout...: "unacked"
                attempt.error = type(exc).__name__
                if device.client.state is ClientState.CLOSED:
                    return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.pause)

    def nodes_of(self) -> Counter[str]:
        return Counter(d.node for d in self.devices)


def _recorder(device: Device) -> Any:
    def record(event: MessageEvent) -> None:
        m = event.message
        device.seen[m.conv].append((m.seq, m.cmid))

    return record


@dataclasses.dataclass
class Counts:
    scenario: str
    sent: int = 0
    acked: int = 0
    unacked: int = 0
    unacked_stored_once: int = 0
    stored: int = 0
    delivered: int = 0
    duplicates: int = 0
    missing: int = 0
    out_of_order: int = 0
    ack_mismatch: int = 0
    lagging_devices: int = 0
    problems: list[str] = dataclasses.field(default_factory=list)

    def line(self) -> str:
        return (
            f"[chaos] {self.scenario}: sent={self.sent} acked={self.acked} unacked={self.unacked} "
            f"(stored once: {self.unacked_stored_once}) stored={self.stored} delivered={self.delivered} "
            f"duplicates={self.duplicates} missing={self.missing} out_of_order={self.out_of_order} "
            f"ack_mismatch={self.ack_mismatch} lagging_devices={self.lagging_devices}"
        )

    def assert_contract(self) -> None:
        assert self.acked > 0, "no traffic got through"
        bad = {
            k: getattr(self, k)
            for k in ("duplicates", "missing", "out_of_order", "ack_mismatch")
            if getattr(self, k)
        }
        assert not bad, f"{self.line()}\n" + "\n".join(self.problems[:30])


async def _store_view(store: Store, app: str, convs: list[str]) -> dict[str, list[tuple[int, str]]]:
    out: dict[str, list[tuple[int, str]]] = {}
    for conv in convs:
        info = await store.get_conversation(app, conv)
        assert info is not None
        messages = await store.get_messages(app, conv, 1, info.last_seq) if info.last_seq else []
        out[conv] = [(m.seq, m.cmid) for m in messages]
    return out


async def settle(
    traffic: Traffic, store: Store, timeout: float = 30.0
) -> tuple[dict[str, list[tuple[int, str]]], int]:
    """Wait until every device's positions reach the store's last seqs.

    Returns the store's view and how many devices had to be nudged with a
    reconnect (a resume) because live delivery alone did not bring them up to
    date — a gap at the tail of a conversation cannot be seen without a newer message.
    """
    view = await _store_view(store, traffic.app.app, list(traffic.convs))
    last = {c: (msgs[-1][0] if msgs else 0) for c, msgs in view.items()}

    def behind(d: Device) -> bool:
        pos = d.client.positions
        return any(pos.get(c, (0, ""))[0] < last[c] for c in traffic.user_convs[d.user])

    deadline = time.monotonic() + timeout / 2
    while any(behind(d) for d in traffic.devices) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    lagging = [d for d in traffic.devices if behind(d)]
    for d in lagging:
        await d.client.reconnect()
    deadline = time.monotonic() + timeout / 2
    while any(behind(d) for d in traffic.devices) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.2)  # let handler tasks record the last events
    return view, len(lagging)


async def check(scenario: str, traffic: Traffic, store: Store, timeout: float = 30.0) -> Counts:
    """Let every device sync, then compare acks, device views and the store."""
    view, lagging = await settle(traffic, store, timeout)
    counts = Counts(scenario, lagging_devices=lagging)
    problems = counts.problems
    attempts = {(a.conv, a.sender, a.cmid): a for a in traffic.attempts}
    counts.sent = len(attempts)
    counts.acked = sum(1 for a in attempts.values() if a.seq is not None)
    counts.unacked = counts.sent - counts.acked
    stored_at: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    seq_cmid: dict[str, dict[int, str]] = {}
    for conv, msgs in view.items():
        seq_cmid[conv] = dict(msgs)
        seqs = [s for s, _ in msgs]
        if seqs != list(range(1, len(seqs) + 1)):
            counts.out_of_order += 1
            problems.append(f"store {conv}: seqs not dense {seqs[:5]}…")
        for seq, cmid in msgs:
            sender = cmid.rsplit("-", 1)[0]
            if (conv, sender, cmid) in attempts:
                stored_at[(conv, sender, cmid)].append(seq)
    counts.stored = sum(len(v) for v in stored_at.values())
    for key, a in attempts.items():
        seqs = stored_at.get(key, [])
        if len(seqs) > 1:
            counts.duplicates += len(seqs) - 1
            problems.append(f"stored {len(seqs)}×: {key} at {seqs}")
        if a.seq is not None:
            if not seqs:
                counts.missing += 1
                problems.append(f"acked but not stored: {key} seq {a.seq}")
            elif a.seq not in seqs:
                counts.ack_mismatch += 1
                problems.append(f"acked seq {a.seq} but stored at {seqs}: {key}")
        elif len(seqs) == 1:
            counts.unacked_stored_once += 1
    for d in traffic.devices:
        for conv in traffic.user_convs[d.user]:
            got = d.seen.get(conv, [])
            counts.delivered += len(got)
            seqs = [s for s, _ in got]
            dup = len(seqs) - len(set(seqs))
            if dup:
                counts.duplicates += dup
                problems.append(f"{d.user}/{d.name} saw {dup} duplicates in {conv}")
            if any(b <= a for a, b in itertools.pairwise(seqs)):
                counts.out_of_order += 1
                problems.append(f"{d.user}/{d.name} saw {conv} out of order")
            for seq, cmid in got:
                if seq_cmid[conv].get(seq) != cmid:
                    counts.ack_mismatch += 1
                    problems.append(f"{d.user}/{d.name} {conv} seq {seq}: {cmid!r} != store")
            expected = {s for s in seq_cmid[conv] if s > d.baseline.get(conv, 0)}
            lost = expected - set(seqs)
            if lost:
                counts.missing += len(lost)
                problems.append(f"{d.user}/{d.name} missed {len(lost)} of {conv}: {sorted(lost)[:10]}")
        for conv in d.seen:
            if conv not in traffic.convs:
                problems.append(f"{d.user}/{d.name} saw unknown conversation {conv}")
    print(counts.line())
    return counts
