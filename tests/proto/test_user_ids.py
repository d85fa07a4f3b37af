"""Every client frame field that names users holds to the user-id charset (issue 10, item 10).

Checked on the frame definitions, so a new frame that names a user with a plain string fails
here instead of letting "a\\nb" in again."""

from __future__ import annotations

import typing

import msgspec.inspect as mi
import pytest

from parley.proto import frames
from parley.proto.ids import USER_ID_PATTERN, is_user_id

#: Field names that hold a user id or a list of them.
USER_FIELDS = frozenset({"user", "users", "members", "mentions", "agent"})
CLIENT_TYPES = typing.get_args(frames.ClientFrame)


def _strings(t: mi.Type) -> list[mi.StrType]:
    if isinstance(t, mi.StrType):
        return [t]
    if isinstance(t, mi.ListType):
        return _strings(t.item_type)
    if isinstance(t, mi.UnionType):
        return [s for x in t.types for s in _strings(x)]
    return []


@pytest.mark.parametrize("cls", CLIENT_TYPES, ids=lambda c: c.__name__)
def test_fields_naming_users_use_the_user_id_type(cls: type) -> None:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    for field in info.fields:
        if field.name in USER_FIELDS:
            strings = _strings(field.type)
            assert strings, f"{cls.__name__}.{field.name} holds no strings?"
            for s in strings:
                assert s.pattern == USER_ID_PATTERN, f"{cls.__name__}.{field.name} is not a UserId"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("alice", True),
        ("a.b_c-d@e.example", True),
        ("auth0|5f7c8ec7", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("", False),
        ("a\n", False),
        ("a\nb", False),
        ("a b", False),
        ("a/b", False),
        ("a\x00", False),
        ("é", False),
        (7, False),
    ],
)
def test_the_charset(value: object, ok: bool) -> None:
    assert is_user_id(value) is ok
