"""Property tests over every frame type: round-trips and reference-msgpack compatibility."""

from __future__ import annotations

import typing

import msgpack
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.proto import frames
from parley.proto.codec import ClientDecoder, ServerDecoder, encode
from tests.proto.strategies import (
    CLIENT_TAGS,
    CLIENT_TYPES,
    SERVER_TAGS,
    SERVER_TYPES,
    client_frames,
    server_frames,
    struct_strategy,
)

CLIENT = ClientDecoder(max_frame=1 << 24)
SERVER = ServerDecoder()


def test_every_frame_is_in_exactly_one_direction() -> None:
    assert not CLIENT_TAGS & SERVER_TAGS
    assert len(CLIENT_TAGS) == len(CLIENT_TYPES)
    assert len(SERVER_TAGS) == len(SERVER_TYPES)
    tagged = {
        obj
        for obj in vars(frames).values()
        if isinstance(obj, type) and issubclass(obj, frames._Frame) and obj is not frames._Frame
    }
    assert tagged == set(CLIENT_TYPES) | set(SERVER_TYPES)


@pytest.mark.parametrize("cls", CLIENT_TYPES, ids=lambda c: c.__name__)
@settings(max_examples=20)
@given(data=st.data())
def test_client_frame_round_trip(cls: type[msgspec.Struct], data: st.DataObject) -> None:
    frame = data.draw(struct_strategy(cls))
    assert CLIENT.decode(encode(frame)) == frame


@pytest.mark.parametrize("cls", SERVER_TYPES, ids=lambda c: c.__name__)
@settings(max_examples=20)
@given(data=st.data())
def test_server_frame_round_trip(cls: type[msgspec.Struct], data: st.DataObject) -> None:
    frame = data.draw(struct_strategy(cls))
    assert SERVER.decode(encode(frame)) == frame


@settings(max_examples=120)
@given(frame=client_frames | server_frames)
def test_reference_msgpack_reads_every_frame(frame: msgspec.Struct) -> None:
    data = encode(frame)
    plain = msgpack.unpackb(data, raw=False)
    assert isinstance(plain, dict)
    assert plain["t"] == type(frame).__struct_config__.tag
    assert next(iter(plain)) == "t", "the tag is the first key"
    assert plain == msgspec.to_builtins(frame)


@settings(max_examples=120)
@given(frame=client_frames | server_frames)
def test_frames_packed_by_reference_msgpack_decode(frame: msgspec.Struct) -> None:
    """Another implementation's bytes (same map) decode to the same frame."""
    repacked = msgpack.packb(msgspec.to_builtins(frame), use_bin_type=True)
    decoder = CLIENT if type(frame) in CLIENT_TYPES else SERVER
    assert decoder.decode(repacked) == frame


@settings(max_examples=100)
@given(frame=client_frames)
def test_defaults_are_omitted_and_restored(frame: msgspec.Struct) -> None:
    plain = msgpack.unpackb(encode(frame), raw=False)
    for name in frame.__struct_fields__:
        default = msgspec.structs.fields(frame)[frame.__struct_fields__.index(name)].default
        if getattr(frame, name) == default and default is not msgspec.NODEFAULT:
            assert name not in plain
    minimal = {k: v for k, v in plain.items() if k == "t" or k in _required(type(frame))}
    restored = CLIENT.decode(msgpack.packb(minimal))
    for field in msgspec.structs.fields(type(frame)):
        if not field.required:
            assert getattr(restored, field.name) == (
                field.default if field.default_factory is msgspec.NODEFAULT else field.default_factory()
            )


def _required(cls: type[msgspec.Struct]) -> set[str]:
    return {f.name for f in msgspec.structs.fields(cls) if f.required}


@settings(max_examples=100)
@given(
    frame=client_frames,
    extra=st.dictionaries(st.text(min_size=1, max_size=8), st.integers(-9, 9), max_size=3),
)
def test_unknown_keys_are_ignored(frame: msgspec.Struct, extra: dict[str, int]) -> None:
    plain = msgspec.to_builtins(frame)
    known = set(frame.__struct_fields__) | {"t"}
    plain.update({k: v for k, v in extra.items() if k not in known})
    assert CLIENT.decode(msgpack.packb(plain)) == frame


@settings(max_examples=40)
@given(frame=server_frames)
def test_client_frames_and_server_frames_do_not_cross(frame: msgspec.Struct) -> None:
    """A server frame sent to the server is an unknown frame, and vice versa."""
    from parley.proto.errors import ErrorCode, FrameError

    with pytest.raises(FrameError) as info:
        CLIENT.decode(encode(frame))
    assert info.value.code is ErrorCode.UNKNOWN_FRAME


def test_union_members_are_the_declared_lists() -> None:
    assert set(typing.get_args(frames.ClientFrame)) == set(CLIENT_TYPES)
    assert {cls.__name__ for cls in (*CLIENT_TYPES, *SERVER_TYPES)} <= set(frames.__all__)
