"""Exactly-once, in-order delivery of messages per conversation (pure logic).

Wraps :class:`~parley.proto.positions.StreamTracker`: a duplicate (``seq`` at
or below the position) is dropped; a gap (``seq`` beyond position + 1) is held
back and the conversation is marked for ``sync``; when the sync refills the
gap the held messages are released in order. The client performs the syncs;
this module only decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from parley.proto import frames as f
from parley.proto.positions import StreamTracker, Verdict

__all__ = ["Streams", "SyncOutcome"]


@dataclass(slots=True)
class SyncOutcome:
    """What a ``synced`` reply means for the app and for the next sync round."""

    #: Messages released because the sync closed a gap, in order.
    deliver: list[f.Message] = field(default_factory=list)
    #: Conversations whose stream was reset (emit a ``ResetEvent`` each).
    resets: list[f.SyncState] = field(default_factory=list)
    #: Conversations to sync again from their new position.
    again: set[str] = field(default_factory=set)


class Streams:
    """Positions, held-back messages and the merge rules for one client.

    ``baseline`` is False until the first sync completes: on a first-ever
    connection the server's positions are taken as the starting point; after
    that, a conversation the client did not know is synced from 0.
    """

    def __init__(self, positions: Iterable[f.Position] = ()) -> None:
        self.tracker = StreamTracker()
        self._held: dict[str, dict[int, f.Message]] = {}
        self.baseline = False
        #: While True, messages of unknown conversations count from seq 0 (reconnect sync).
        self.strict = False
        for p in positions:
            self.tracker.reset(p.conv, p.seq, p.epoch)
            self.baseline = True

    def position(self, conv: str) -> int | None:
        """Last contiguous seq delivered for ``conv`` (``None`` if untracked)."""
        return self.tracker.positions.get(conv)

    def positions(self, convs: Iterable[str] | None = None) -> list[f.Position]:
        """Positions to put in a ``sync`` (all tracked conversations when ``convs`` is None)."""
        tracked = self.tracker.positions
        names = list(tracked) if convs is None else [c for c in convs if c in tracked]
        return [f.Position(conv=c, seq=tracked[c], epoch=self.tracker.epochs.get(c, "")) for c in names]

    def held(self, conv: str) -> list[int]:
        """Seqs held back for ``conv`` waiting for a gap to fill (sorted)."""
        return sorted(self._held.get(conv, ()))

    def on_message(self, m: f.Message) -> tuple[list[f.Message], bool]:
        """Merge one incoming message: ``(messages to deliver now, sync needed)``."""
        if self.strict and m.conv not in self.tracker.positions:
            self.tracker.positions[m.conv] = 0
        verdict = self.tracker.classify(m.conv, m.seq)
        if verdict is Verdict.DUPLICATE:
            return [], False
        if verdict is Verdict.GAP:
            held = self._held.setdefault(m.conv, {})
            new_gap = not held
            held[m.seq] = m
            return [], new_gap
        self.tracker.advance(m.conv, m.seq)
        return [m, *self._drain(m.conv)], False

    def on_synced(self, synced: f.Synced, listed: Iterable[str]) -> SyncOutcome:
        """Apply a ``synced`` reply to a sync that listed ``listed`` conversations."""
        listed = set(listed)
        out = SyncOutcome()
        tracker = self.tracker
        for s in synced.convs:
            if s.reset:
                out.resets.append(s)
                if not s.epoch:  # the conversation is gone (or the user left it)
                    self.forget(s.conv)
                    continue
                tracker.reset(s.conv, s.last_seq, s.epoch)
            elif s.conv in listed:
                tracker.epochs[s.conv] = s.epoch
                if s.more or tracker.positions.get(s.conv, 0) < s.last_seq:
                    out.again.add(s.conv)
            elif s.conv not in tracker.positions:
                # A conversation the client did not know about.
                if self.baseline:
                    tracker.reset(s.conv, 0, s.epoch)
                    if s.last_seq > 0:
                        out.again.add(s.conv)
                else:
                    tracker.reset(s.conv, s.last_seq, s.epoch)
            elif not tracker.epochs.get(s.conv):
                tracker.epochs[s.conv] = s.epoch
            out.deliver.extend(self._drain(s.conv))
            if self._held.get(s.conv):
                out.again.add(s.conv)
        return out

    def track(self, conv: str, last_seq: int, epoch: str) -> None:
        """Learn of ``conv`` (joined, created): start at ``last_seq`` unless already tracked."""
        if conv not in self.tracker.positions:
            self.tracker.reset(conv, last_seq, epoch)
        elif not self.tracker.epochs.get(conv):
            self.tracker.epochs[conv] = epoch

    def skip_gap(self, conv: str) -> list[f.Message]:
        """Give up on a gap the server cannot fill: jump to the first held message."""
        held = self._held.get(conv)
        if not held:
            return []
        self.tracker.positions[conv] = min(held) - 1
        return self._drain(conv)

    def forget(self, conv: str) -> None:
        """Stop tracking ``conv`` (the user left it)."""
        self.tracker.positions.pop(conv, None)
        self.tracker.epochs.pop(conv, None)
        self._held.pop(conv, None)

    def _drain(self, conv: str) -> list[f.Message]:
        held = self._held.get(conv)
        if not held:
            return []
        pos = self.tracker.positions.get(conv, 0)
        for seq in [s for s in held if s <= pos]:
            del held[seq]
        out: list[f.Message] = []
        while pos + 1 in held:
            pos += 1
            out.append(held.pop(pos))
        if out:
            self.tracker.advance(conv, pos)
        if not held:
            del self._held[conv]
        return out
