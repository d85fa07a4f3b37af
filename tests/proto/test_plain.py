"""The one rule for free-form values (``proto.plain``): what is refused coming in, what is repaired on read."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from parley.proto.content import validate_body
from parley.proto.errors import ProtocolError
from parley.proto.plain import INT_MAX, INT_MIN, MAX_DEPTH, TOO_DEEP, problem, repair, repaired
from tests.proto.strategies import bodies


def deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ({"k\x00": 1}, "NUL"),
        ({"a": [{"\x00": 1}]}, "NUL"),
        ({"$ref": "x", "$id": 1}, "'$'"),
        ({"a.b": 1}, "'.'"),
        ({1: 1}, "strings"),
        ({"n": INT_MAX + 1}, "64-bit"),
        ({"n": INT_MIN - 1}, "64-bit"),
        ({"n": 2**64}, "64-bit"),
        ({"d": deep(MAX_DEPTH)}, "nested"),
        ({"b": b"x"}, "binary"),
    ],
)
def test_refused_coming_in(value: dict[Any, Any], why: str) -> None:
    assert why in (problem(value) or "")
    with pytest.raises(ProtocolError, match="invalid body") as refused:
        validate_body("custom", value)
    assert refused.value.code == "invalid_request"


def test_accepted_edges() -> None:
    assert problem({"n": INT_MAX, "m": INT_MIN, "d": deep(MAX_DEPTH - 1), "k": "a$b", "": None}) is None
    assert problem({"a.b": 1, "$x": 2}, keys=False) is None, "stored keys are not held to the key rules"


def test_size_bound() -> None:
    validate_body("text", {"text": "x", "pad": "y" * 1000}, max_bytes=1100)
    with pytest.raises(ProtocolError, match="exceeds the limit of 1000"):
        validate_body("text", {"text": "x", "pad": "y" * 1000}, max_bytes=1000)


def test_repair_makes_anything_stored_decodable() -> None:
    broken = {
        "n": 2**63,
        "m": -(2**64),
        3: "key",
        "b": b"\x01",
        "d": deep(MAX_DEPTH + 5),
        "ok": [True, None, 1.5],
    }
    fixed = repair(broken)
    assert problem(fixed, keys=False) is None
    assert fixed["n"] == str(2**63) and fixed["m"] == str(-(2**64)) and fixed["3"] == "key"
    assert fixed["ok"] == [True, None, 1.5] and fixed["b"] == str(b"\x01")
    inner = fixed["d"]
    for _ in range(MAX_DEPTH - 2):
        inner = inner[0]
    assert inner == [TOO_DEEP]


@given(body=bodies)
def test_plain_values_pass_through_untouched(body: dict[str, Any]) -> None:
    assert problem(body) is None
    assert repaired(body) is body and repair(body) == body


def test_subclasses_of_plain_types_are_walked_like_them() -> None:
    from collections import OrderedDict

    class Big(int):
        pass

    assert problem(OrderedDict({"a.b": 1})) == "map keys must not contain '.'"
    assert problem({"n": Big(2**63)}) == "integer outside the signed 64-bit range"
    assert problem({"d": OrderedDict({"k": deep(MAX_DEPTH)})}) is not None
    assert problem({"ok": Big(5), "b": True}) is None
