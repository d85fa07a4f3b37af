"""Body validation per message kind."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.proto.content import MAX_TEXT, RICH_TYPES, validate_body
from parley.proto.errors import ErrorCode, ProtocolError


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("text", {"text": "hello"}),
        ("text", {"text": "x" * MAX_TEXT}),
        ("text", {"text": "hi", "format": "md"}),
        ("rich", {"type": "image", "url": "https://cdn.example/a.png", "w": 10}),
        ("rich", {"type": "file", "url": "http://x/y.pdf", "name": "y.pdf"}),
        ("custom", {"card": {"title": "t"}}),
        ("system", {"event": "member_added", "users": ["u1"]}),
    ],
)
def test_valid_bodies(kind: str, body: dict[str, Any]) -> None:
    validate_body(kind, body)


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("text", {}),
        ("text", {"text": ""}),
        ("text", {"text": "   \n\t"}),
        ("text", {"text": 5}),
        ("text", {"text": "x" * (MAX_TEXT + 1)}),
        ("rich", {"url": "https://x/y"}),
        ("rich", {"type": "gif", "url": "https://x/y"}),
        ("rich", {"type": "image"}),
        ("rich", {"type": "image", "url": "ftp://x/y"}),
        ("rich", {"type": "image", "url": "javascript:alert(1)"}),
        ("custom", {}),
        ("system", {}),
        ("system", {"event": 1}),
        ("video", {"url": "https://x"}),
        ("", {"text": "x"}),
    ],
)
def test_invalid_bodies(kind: str, body: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as info:
        validate_body(kind, body)
    assert info.value.code is ErrorCode.INVALID_REQUEST


def test_rich_types() -> None:
    assert frozenset({"image", "file", "audio", "video"}) == RICH_TYPES
    for t in RICH_TYPES:
        validate_body("rich", {"type": t, "url": "https://x/" + t})


def test_edit_and_recall_are_not_kinds_a_client_validates_directly() -> None:
    """``edit``/``recall`` messages are built by the server, not validated as send bodies."""
    for kind in ("edit", "recall"):
        with pytest.raises(ProtocolError):
            validate_body(kind, {"target": 1})


@given(
    kind=st.text(max_size=10),
    body=st.dictionaries(st.text(max_size=5), st.integers() | st.text(), max_size=3),
)
def test_only_protocol_errors(kind: str, body: dict[str, Any]) -> None:
    try:
        validate_body(kind, body)
    except ProtocolError as exc:
        assert exc.code is ErrorCode.INVALID_REQUEST
