"""What a node's outbound queues hold, in bytes: the gateway's own account of its buffering.

A fan-out encodes a frame once and hands the same ``bytes`` object to every
recipient, so a frame queued for a thousand slow connections costs its size
once, not a thousand times. Process RSS cannot show that (it depends on the
allocator and on everything else the process holds); this ledger can, exactly:

- ``queued_bytes``: the sum over connections of the bytes in their queues —
  what the queues would hold if every connection had its own copy;
- ``held_bytes``: the bytes of the distinct frames in all queues — what they
  really pin;
- ``shared_frames``: how many times a frame was queued while another queue
  already held the same object (zero would mean per-connection copies);
- the peaks of both byte counts since the node started.

The cost is one dict update per frame that is *queued* — only while a
connection's transport is past its high-water mark; frames written straight
to a writable transport are not counted (the transport's own buffer is bounded
by its high-water mark).
"""

from __future__ import annotations

__all__ = ["OutboundLedger"]


class OutboundLedger:
    """Counts the bytes every outbound queue of one node holds, shared frames once."""

    __slots__ = (
        "_refs",
        "held_bytes",
        "peak_held_bytes",
        "peak_queued_bytes",
        "queued_bytes",
        "shared_frames",
    )

    def __init__(self) -> None:
        #: id(frame) -> [size, number of queue entries holding it]. The queues keep the
        #: frames alive while they are counted here, so an id cannot be reused meanwhile.
        self._refs: dict[int, list[int]] = {}
        self.queued_bytes = 0
        self.held_bytes = 0
        self.peak_queued_bytes = 0
        self.peak_held_bytes = 0
        self.shared_frames = 0

    @property
    def held_frames(self) -> int:
        """Distinct frames in all queues."""
        return len(self._refs)

    def add(self, frame: bytes) -> None:
        """``frame`` was appended to a queue."""
        size = len(frame)
        self.queued_bytes += size
        if self.queued_bytes > self.peak_queued_bytes:
            self.peak_queued_bytes = self.queued_bytes
        ref = self._refs.get(id(frame))
        if ref is None:
            self._refs[id(frame)] = [size, 1]
            self.held_bytes += size
            if self.held_bytes > self.peak_held_bytes:
                self.peak_held_bytes = self.held_bytes
        else:
            ref[1] += 1
            self.shared_frames += 1

    def remove(self, frame: bytes) -> None:
        """``frame`` left a queue (written to the socket or dropped)."""
        self.queued_bytes -= len(frame)
        key = id(frame)
        ref = self._refs[key]
        ref[1] -= 1
        if ref[1] == 0:
            del self._refs[key]
            self.held_bytes -= ref[0]
