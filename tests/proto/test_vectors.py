"""The committed test vectors in ``proto/vectors/`` match the codec, and the generator."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import msgpack
import msgspec
import pytest

from parley.proto import frames
from parley.proto.codec import DEFAULT_MAX_FRAME, ClientDecoder, ServerDecoder, encode
from parley.proto.errors import ErrorCode, FrameError
from tests.proto.strategies import CLIENT_TAGS, SERVER_TAGS

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "proto" / "vectors"


def load(name: str) -> list[dict[str, Any]]:
    return json.loads((VECTORS / name).read_text("utf-8"))


def cases(name: str) -> list[Any]:
    return [pytest.param(c, id=c["name"]) for c in load(name)]


def _check_valid(case: dict[str, Any], decoder: ClientDecoder | ServerDecoder, union: Any) -> None:
    data = bytes.fromhex(case["hex"])
    decoded = decoder.decode(data)
    assert msgspec.to_builtins(decoded) == case["frame"]
    built = msgspec.convert(case["frame"], union)
    assert built == decoded
    assert encode(built).hex() == case["hex"]
    # Any plain MessagePack encoder reproduces the bytes from the JSON map.
    assert msgpack.packb(case["frame"], use_bin_type=True).hex() == case["hex"]
    assert next(iter(case["frame"])) == "t"


@pytest.mark.parametrize("case", cases("client.json"))
def test_client_vectors(case: dict[str, Any]) -> None:
    _check_valid(case, ClientDecoder(), frames.ClientFrame)


@pytest.mark.parametrize("case", cases("server.json"))
def test_server_vectors(case: dict[str, Any]) -> None:
    _check_valid(case, ServerDecoder(), frames.ServerFrame)


@pytest.mark.parametrize("case", cases("invalid.json"))
def test_invalid_vectors(case: dict[str, Any]) -> None:
    max_frame = case.get("max_frame", DEFAULT_MAX_FRAME)
    decoder = ClientDecoder(max_frame) if case["side"] == "server" else ServerDecoder(max_frame)
    with pytest.raises(FrameError) as info:
        decoder.decode(bytes.fromhex(case["hex"]))
    assert info.value.code is ErrorCode(case["code"])


def test_every_frame_type_has_a_vector() -> None:
    assert {c["frame"]["t"] for c in load("client.json")} == CLIENT_TAGS
    assert {c["frame"]["t"] for c in load("server.json")} == SERVER_TAGS


def test_every_frame_error_code_has_an_invalid_vector() -> None:
    codes = {c["code"] for c in load("invalid.json")}
    assert codes == {"bad_frame", "unknown_frame", "invalid_frame", "frame_too_large"}
    assert {c["side"] for c in load("invalid.json")} == {"server", "client"}


def test_names_are_unique() -> None:
    for name in ("client.json", "server.json", "invalid.json"):
        names = [c["name"] for c in load(name)]
        assert len(names) == len(set(names)), name


def test_generator_is_deterministic_and_files_are_current() -> None:
    spec = importlib.util.spec_from_file_location("gen_vectors", ROOT / "scripts" / "gen_vectors.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    first = module.build()
    assert first == module.build()
    assert sorted(first) == sorted(p.name for p in VECTORS.glob("*.json"))
    for name, text in first.items():
        assert (VECTORS / name).read_text("utf-8") == text, f"run scripts/gen_vectors.py ({name} is stale)"
