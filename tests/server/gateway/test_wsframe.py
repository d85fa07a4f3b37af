"""Server framing agrees with websockets' own frame parser, at every length boundary."""

from __future__ import annotations

from collections.abc import Generator

from hypothesis import given
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from parley.server.gateway.wsframe import binary_frame


def parse(data: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser: Generator[None, None, Frame] = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame: Frame = done.value
        return frame
    raise AssertionError("incomplete frame")


@given(st.one_of(st.binary(max_size=300), st.sampled_from([125, 126, 127, 65535, 65536, 70000]).map(bytes)))
def test_binary_frame_round_trips_through_websockets(payload: bytes) -> None:
    frame = parse(binary_frame(payload))
    assert frame.opcode is Opcode.BINARY and frame.fin
    assert bytes(frame.data) == payload


def test_lengths_use_the_shortest_encoding() -> None:
    assert len(binary_frame(b"x" * 125)) == 2 + 125
    assert len(binary_frame(b"x" * 126)) == 4 + 126
    assert len(binary_frame(b"x" * 65536)) == 10 + 65536
