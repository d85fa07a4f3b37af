"""The codec: specific bad inputs, and totality (any bytes -> a frame or FrameError)."""

from __future__ import annotations

from typing import Any

import msgpack
import msgspec
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from parley.proto.codec import DEFAULT_MAX_FRAME, MAX_DEPTH, ClientDecoder, ServerDecoder, encode
from parley.proto.errors import ErrorCode, FrameError
from parley.proto.frames import Ack, Hello, Message, Msg, Ping, Send
from tests.proto.strategies import (
    CLIENT_TAGS,
    SERVER_TAGS,
    client_frames,
    garbage_frame_maps,
    msgpack_values,
    server_frames,
)

FRAME_CODES = {
    ErrorCode.BAD_FRAME,
    ErrorCode.UNKNOWN_FRAME,
    ErrorCode.INVALID_FRAME,
    ErrorCode.FRAME_TOO_LARGE,
}
CLIENT = ClientDecoder()
SERVER = ServerDecoder()


def pack(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def code_of(data: bytes, decoder: ClientDecoder | ServerDecoder = CLIENT) -> ErrorCode:
    with pytest.raises(FrameError) as info:
        decoder.decode(data)
    assert isinstance(info.value.message, str) and info.value.message
    return info.value.code


def send_with_body(body: Any) -> dict[str, Any]:
    return {"t": "send", "id": 1, "conv": "c1", "cmid": "m1", "body": body}


# ------------------------------------------------------------------ valid frames


def test_decodes_a_minimal_send_with_defaults() -> None:
    frame = CLIENT.decode(pack(send_with_body({"text": "hi"})))
    assert frame == Send(id=1, conv="c1", cmid="m1", body={"text": "hi"})
    assert frame.kind == "text" and frame.mentions == []


def test_encode_puts_the_tag_first_and_omits_defaults() -> None:
    data = encode(Send(id=1, conv="c1", cmid="m1", body={"text": "hi"}))
    assert list(msgpack.unpackb(data)) == ["t", "id", "conv", "cmid", "body"]


def test_decoder_accepts_bytearray_and_memoryview() -> None:
    data = encode(Ping(ts=5))
    assert CLIENT.decode(bytearray(data)) == Ping(ts=5)
    assert CLIENT.decode(memoryview(data)) == Ping(ts=5)


def test_server_decoder_reads_nested_messages() -> None:
    m = Message(conv="c", seq=3, mid="x", sender="u", kind="text", body={"text": "yo"}, ts=1)
    assert SERVER.decode(encode(Msg(m=m))) == Msg(m=m)


def test_nan_and_infinity_survive() -> None:
    frame = CLIENT.decode(pack(send_with_body({"x": float("nan"), "y": float("inf")})))
    assert frame.body["x"] != frame.body["x"] and frame.body["y"] == float("inf")


def test_deepest_allowed_body_decodes() -> None:
    body: Any = 1
    for _ in range(MAX_DEPTH - 1):
        body = [body]
    assert CLIENT.decode(pack(send_with_body({"a": body}))).body == {"a": body}


def test_int64_bounds_are_accepted() -> None:
    body = {"lo": -(2**63), "hi": 2**63 - 1}
    assert CLIENT.decode(pack(send_with_body(body))).body == body


# ------------------------------------------------------------- specific errors


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("empty input", b"", ErrorCode.BAD_FRAME),
        ("reserved opcode 0xc1", b"\xc1", ErrorCode.BAD_FRAME),
        ("truncated map", pack({"t": "ping", "ts": 5})[:-1], ErrorCode.BAD_FRAME),
        ("truncated string header", b"\x81\xa1t\xd9", ErrorCode.BAD_FRAME),
        ("array claims 2**32-1 items", b"\x81\xa1t\xa4ping\xdd\xff\xff\xff\xff", ErrorCode.BAD_FRAME),
        ("trailing byte", pack({"t": "ping"}) + b"\x00", ErrorCode.BAD_FRAME),
        ("empty map then a trailing byte", b"\x80\x00", ErrorCode.BAD_FRAME),
        ("unknown t then trailing bytes", pack({"t": "nope"}) + b"\x00", ErrorCode.BAD_FRAME),
        ("wrong type then a truncated tail", b"\x82\xa1t\xa4send\xa2id\xa1x\xff", ErrorCode.BAD_FRAME),
        ("unknown t, then truncated", b"\x82\xa1t\xa4nope\xa1x", ErrorCode.BAD_FRAME),
        ("two frames in one message", pack({"t": "ping"}) * 2, ErrorCode.BAD_FRAME),
        ("array", pack(["ping"]), ErrorCode.BAD_FRAME),
        ("integer", pack(7), ErrorCode.BAD_FRAME),
        ("nil", pack(None), ErrorCode.BAD_FRAME),
        ("string", pack("ping"), ErrorCode.BAD_FRAME),
        ("binary", pack(b"ping"), ErrorCode.BAD_FRAME),
        ("invalid utf-8 in tag", b"\x81\xa1t\xa2\xff\xfe", ErrorCode.BAD_FRAME),
        (
            "invalid utf-8 in body",
            pack(send_with_body({}))[:-1] + b"\x81\xa1a\xa2\xc3\x28",
            ErrorCode.BAD_FRAME,
        ),
        (
            "invalid utf-8 in a known key's value",
            b"\x83\xa1t\xa5hello\xa1v\x01\xa5token\xa2\xff\xfe",
            ErrorCode.BAD_FRAME,
        ),
        ("unknown t", pack({"t": "teleport"}), ErrorCode.UNKNOWN_FRAME),
        ("missing t", pack({"id": 1, "conv": "c"}), ErrorCode.UNKNOWN_FRAME),
        ("empty map", pack({}), ErrorCode.UNKNOWN_FRAME),
        ("t is an int", pack({"t": 1}), ErrorCode.UNKNOWN_FRAME),
        ("t is binary", pack({"t": b"ping"}), ErrorCode.UNKNOWN_FRAME),
        ("t is nil", pack({"t": None}), ErrorCode.UNKNOWN_FRAME),
        (
            "server frame sent by a client",
            encode(Ack(id=1, conv="c", cmid="m", mid="x", seq=1, ts=0)),
            ErrorCode.UNKNOWN_FRAME,
        ),
        ("tag with different case", pack({"t": "PING"}), ErrorCode.UNKNOWN_FRAME),
        (
            "missing required field",
            pack({"t": "send", "id": 1, "conv": "c", "cmid": "m"}),
            ErrorCode.INVALID_FRAME,
        ),
        ("only the tag", pack({"t": "hello"}), ErrorCode.INVALID_FRAME),
        ("wrong type", pack({"t": "read", "id": "1", "conv": "c", "seq": 1}), ErrorCode.INVALID_FRAME),
        ("float where int", pack({"t": "read", "id": 1.0, "conv": "c", "seq": 1}), ErrorCode.INVALID_FRAME),
        ("bool where int", pack({"t": "read", "id": True, "conv": "c", "seq": 1}), ErrorCode.INVALID_FRAME),
        ("negative seq", pack({"t": "read", "id": 1, "conv": "c", "seq": -1}), ErrorCode.INVALID_FRAME),
        (
            "request id above 2**53",
            pack({"t": "read", "id": 2**53 + 1, "conv": "c", "seq": 1}),
            ErrorCode.INVALID_FRAME,
        ),
        ("empty conv id", pack({"t": "read", "id": 1, "conv": "", "seq": 1}), ErrorCode.INVALID_FRAME),
        (
            "limit above 500",
            pack({"t": "history", "id": 1, "conv": "c", "limit": 501}),
            ErrorCode.INVALID_FRAME,
        ),
        ("limit zero", pack({"t": "sync", "id": 1, "limit": 0}), ErrorCode.INVALID_FRAME),
        (
            "kind a client may not send",
            pack({**send_with_body({}), "kind": "system"}),
            ErrorCode.INVALID_FRAME,
        ),
        ("cmid too long", pack({**send_with_body({}), "cmid": "x" * 65}), ErrorCode.INVALID_FRAME),
        ("body is a list", pack(send_with_body([1])), ErrorCode.INVALID_FRAME),
        ("binary top-level key", b"\x82\xa1t\xa4ping\xc4\x02ts\x05", ErrorCode.INVALID_FRAME),
        ("int key in body", pack(send_with_body({1: "x"})), ErrorCode.INVALID_FRAME),
        ("int key nested in body", pack(send_with_body({"a": {1: "x"}})), ErrorCode.INVALID_FRAME),
        ("binary key nested in body", pack(send_with_body({"a": {b"k": 1}})), ErrorCode.INVALID_FRAME),
        (
            "array key nested in body",
            pack(send_with_body({}))[:-1] + b"\x81\xa1a\x81\x91\x01\x02",
            ErrorCode.INVALID_FRAME,
        ),
        (
            "map key nested in body",
            pack(send_with_body({}))[:-1] + b"\x81\xa1a\x81\x81\x01\x02\x02",
            ErrorCode.INVALID_FRAME,
        ),
        ("ext type in body", pack(send_with_body({"a": msgpack.ExtType(5, b"xy")})), ErrorCode.INVALID_FRAME),
        ("timestamp in body", pack(send_with_body({"a": msgpack.Timestamp(1, 0)})), ErrorCode.INVALID_FRAME),
        ("binary in body", pack(send_with_body({"a": b"\x00"})), ErrorCode.INVALID_FRAME),
        ("uint64 in body", pack(send_with_body({"a": 2**64 - 1})), ErrorCode.INVALID_FRAME),
        ("uint64 in a typed field", pack({"t": "ping", "ts": 2**63}), ErrorCode.INVALID_FRAME),
        (
            "ext type in meta",
            pack({"t": "conv_create", "id": 1, "kind": "group", "meta": {"x": msgpack.ExtType(1, b"")}}),
            ErrorCode.INVALID_FRAME,
        ),
        ("ext as a field", pack({"t": "ping", "ts": msgpack.ExtType(1, b"")}), ErrorCode.INVALID_FRAME),
    ],
)
def test_bad_input_gives_the_right_code(name: str, data: bytes, code: ErrorCode) -> None:
    assert code_of(data) is code, name


def test_unknown_keys_are_skipped_unparsed() -> None:
    """Forward compatibility: an unknown key is skipped, its contents unvalidated.

    Even a key or value that is not valid UTF-8 is skipped rather than refused:
    nothing of it reaches the application. (The reference ``msgpack`` package
    would refuse such input; the protocol does not require peers to.)
    """
    assert CLIENT.decode(b"\x82\xa1t\xa4ping\xa2\xff\xfe\x01") == Ping()
    assert CLIENT.decode(b"\x82\xa1t\xa4ping\xa1z\xa2\xff\xfe") == Ping()
    assert CLIENT.decode(pack({"t": "ping", "z": msgpack.ExtType(1, b"")})) == Ping()


def test_body_nested_too_deep() -> None:
    body: Any = 1
    for _ in range(MAX_DEPTH + 1):
        body = [body]
    assert code_of(pack(send_with_body({"a": body}))) is ErrorCode.INVALID_FRAME


@pytest.mark.parametrize("depth", [100, 1_000, 5_000, 50_000])
def test_pathologically_deep_nesting(depth: int) -> None:
    """Past the interpreter's recursion limit too: still a FrameError, never RecursionError."""
    head = pack(send_with_body({}))[:-1] + b"\x81\xa1a"
    for opener in (b"\x91", b"\x81\xa1k"):
        data = head + opener * depth + b"\xc0"
        assert code_of(data, ClientDecoder(max_frame=len(data))) is ErrorCode.INVALID_FRAME


def test_oversized_frame_default_limit() -> None:
    assert DEFAULT_MAX_FRAME == 64 * 1024
    exact = pack({"t": "ping", "pad": "x" * (DEFAULT_MAX_FRAME - 20)})
    exact = pack({"t": "ping", "pad": "x" * (DEFAULT_MAX_FRAME - 20 - (len(exact) - DEFAULT_MAX_FRAME))})
    assert len(exact) == DEFAULT_MAX_FRAME
    assert CLIENT.decode(exact) == Ping()
    assert code_of(exact + b" ") in (ErrorCode.FRAME_TOO_LARGE,)


def test_oversized_frame_configurable_limit() -> None:
    small = ClientDecoder(max_frame=16)
    assert small.max_frame == 16
    assert small.decode(pack({"t": "ping", "ts": 1})) == Ping(ts=1)
    data = pack(send_with_body({"text": "hello there"}))
    assert code_of(data, small) is ErrorCode.FRAME_TOO_LARGE
    # The size is checked before parsing: even garbage is "too large", not "bad".
    assert code_of(b"\xc1" * 17, small) is ErrorCode.FRAME_TOO_LARGE


def test_server_decoder_has_a_larger_default_limit() -> None:
    assert SERVER.max_frame > DEFAULT_MAX_FRAME
    body = {"text": "x" * (DEFAULT_MAX_FRAME + 10)}
    m = Message(conv="c", seq=1, mid="x", sender="u", kind="text", body=body, ts=1)
    assert SERVER.decode(encode(Msg(m=m))).m.body == body


def test_frame_error_is_a_protocol_error_with_code_and_message() -> None:
    from parley.proto.errors import ProtocolError

    with pytest.raises(ProtocolError) as info:
        CLIENT.decode(b"")
    assert isinstance(info.value, FrameError)
    assert str(info.value).startswith("bad_frame: ")


def test_hello_token_limit() -> None:
    assert CLIENT.decode(pack({"t": "hello", "v": 1, "token": "a" * 8192})) == Hello(v=1, token="a" * 8192)
    assert code_of(pack({"t": "hello", "v": 1, "token": "a" * 8193})) is ErrorCode.INVALID_FRAME


# ------------------------------------------------------------------- totality


def expect_frame_error_or_frame(decoder: ClientDecoder | ServerDecoder, data: bytes) -> ErrorCode | None:
    try:
        frame = decoder.decode(data)
    except FrameError as exc:
        assert exc.code in FRAME_CODES
        return exc.code
    assert isinstance(frame, msgspec.Struct)
    return None


def reference_code(data: bytes, tags: frozenset[str]) -> set[ErrorCode] | None:
    """What the reference ``msgpack`` package says the code must be (None: no opinion)."""
    try:
        obj = msgpack.unpackb(data, raw=False, strict_map_key=False)
    except (ValueError, msgpack.FormatError, msgpack.StackError):
        # ExtraData and truncation are ValueErrors; so is invalid UTF-8.
        return {ErrorCode.BAD_FRAME}
    except Exception:
        return None  # e.g. unhashable keys: msgpack and msgspec disagree on the message
    if not isinstance(obj, dict):
        return {ErrorCode.BAD_FRAME}
    tag = obj.get("t")
    if not isinstance(tag, str) or tag not in tags:  # an unhashable tag (a list) is no tag either
        # A non-string key before the tag can be reported first.
        if all(isinstance(k, str) for k in obj):
            return {ErrorCode.UNKNOWN_FRAME}
        return {ErrorCode.UNKNOWN_FRAME, ErrorCode.INVALID_FRAME}
    return {ErrorCode.INVALID_FRAME}


@settings(max_examples=300)
@given(data=st.binary(max_size=64))
@example(data=b"\x81\xa1t\xa4ping")
@example(data=b"\xdf\xff\xff\xff\xff")
@example(data=b"\xc7\xff\x01")
def test_arbitrary_bytes(data: bytes) -> None:
    for decoder, tags in ((CLIENT, CLIENT_TAGS), (SERVER, SERVER_TAGS)):
        code = expect_frame_error_or_frame(decoder, data)
        expected = reference_code(data, tags)
        if code is not None and expected is not None:
            assert code in expected, (data, code, expected)


@settings(max_examples=200)
@given(obj=msgpack_values)
@example(obj={"t": []})  # found by hypothesis: the oracle itself crashed on an unhashable tag
def test_arbitrary_msgpack_values(obj: Any) -> None:
    data = pack(obj)
    for decoder, tags in ((CLIENT, CLIENT_TAGS), (SERVER, SERVER_TAGS)):
        code = expect_frame_error_or_frame(decoder, data)
        if code is not None and code is not ErrorCode.FRAME_TOO_LARGE:
            expected = reference_code(data, tags)
            assert expected is None or code in expected, (obj, code, expected)


@settings(max_examples=120)
@given(obj=garbage_frame_maps(CLIENT_TAGS))
def test_valid_tag_with_garbage_fields_client(obj: dict[Any, Any]) -> None:
    code = expect_frame_error_or_frame(CLIENT, pack(obj))
    assert code in (None, ErrorCode.INVALID_FRAME, ErrorCode.FRAME_TOO_LARGE)


@settings(max_examples=120)
@given(obj=garbage_frame_maps(SERVER_TAGS))
def test_valid_tag_with_garbage_fields_server(obj: dict[Any, Any]) -> None:
    code = expect_frame_error_or_frame(SERVER, pack(obj))
    assert code in (None, ErrorCode.INVALID_FRAME)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bool, bytes]:
    frame = draw(client_frames | server_frames)
    data = bytearray(encode(frame))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        i = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        elif data:
            del data[i]
    return type(frame).__struct_config__.tag in CLIENT_TAGS, bytes(data)


@settings(max_examples=200)
@given(case=mutated())
def test_mutated_frames(case: tuple[bool, bytes]) -> None:
    _, data = case
    expect_frame_error_or_frame(CLIENT, data)
    expect_frame_error_or_frame(SERVER, data)


@settings(max_examples=100)
@given(frame=client_frames, cut=st.integers(min_value=1))
def test_every_truncation_is_bad_frame(frame: msgspec.Struct, cut: int) -> None:
    data = encode(frame)
    cut = cut % len(data) or 1
    assert code_of(data[:-cut]) is ErrorCode.BAD_FRAME


@settings(max_examples=100)
@given(frame=server_frames, extra=st.binary(min_size=1, max_size=8))
def test_trailing_bytes_are_bad_frame(frame: msgspec.Struct, extra: bytes) -> None:
    assert code_of(encode(frame) + extra, SERVER) is ErrorCode.BAD_FRAME


def test_only_fields_msgspec_cannot_vouch_for_are_walked() -> None:
    """Typed, bounded fields are validated by msgspec; free-form ones are walked for plain data."""
    from parley.proto import frames
    from parley.proto.plain import _free_fields

    assert _free_fields(frames.Send) == ("body",)
    assert "meta" in _free_fields(frames.ConvCreate)
    assert "v" in _free_fields(frames.Hello), "an unbounded int is still range-checked"
    assert _free_fields(frames.Typing) == ()
