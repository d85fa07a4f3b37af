"""Hypothesis strategies for every frame, derived from the msgspec type info.

Deriving them from ``msgspec.inspect`` keeps the strategies honest: the
constraints (lengths, bounds, literals) are read from ``proto/frames.py``,
so a new field or a tightened bound is picked up without editing this file.
"""

from __future__ import annotations

import typing
from typing import Any

import msgspec
import msgspec.inspect as mi
from hypothesis import strategies as st

from parley.proto import frames
from parley.proto.plain import key_problem

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

CLIENT_TYPES: tuple[type[msgspec.Struct], ...] = typing.get_args(frames.ClientFrame)
SERVER_TYPES: tuple[type[msgspec.Struct], ...] = typing.get_args(frames.ServerFrame)
CLIENT_TAGS = frozenset(t.__struct_config__.tag for t in CLIENT_TYPES)
SERVER_TAGS = frozenset(t.__struct_config__.tag for t in SERVER_TYPES)

#: Plain (JSON-like) values as bodies may hold them: what the codec accepts.
scalars = (
    st.none()
    | st.booleans()
    | st.integers(INT64_MIN, INT64_MAX)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
)


def keys(max_size: int) -> st.SearchStrategy[str]:
    """Map keys a client may write (``proto.plain.key_problem``: no NUL, no leading ``$``, no ``.``)."""
    return st.text(max_size=max_size).filter(lambda k: key_problem(k) is None)


plain_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys(8), inner, max_size=4),
    max_leaves=12,
)
bodies = st.dictionaries(keys(10), plain_values, max_size=5)


def _for(t: mi.Type) -> st.SearchStrategy[Any]:
    if isinstance(t, mi.StructType):
        return struct_strategy(t.cls)
    if isinstance(t, mi.IntType):
        lo = t.ge if t.ge is not None else INT64_MIN
        hi = t.le if t.le is not None else INT64_MAX
        return st.integers(lo, hi)
    if isinstance(t, mi.StrType):
        if t.pattern is not None:
            return st.from_regex(t.pattern).filter(lambda s: len(s) <= min(t.max_length or 30, 30))
        return st.text(min_size=t.min_length or 0, max_size=min(t.max_length or 30, 30))
    if isinstance(t, mi.FloatType):
        return st.floats(
            min_value=t.ge if t.ge is not None else None,
            max_value=t.le if t.le is not None else None,
            allow_nan=False,
            allow_infinity=False,
        )
    if isinstance(t, mi.BoolType):
        return st.booleans()
    if isinstance(t, mi.NoneType):
        return st.none()
    if isinstance(t, mi.LiteralType):
        return st.sampled_from(t.values)
    if isinstance(t, mi.UnionType):
        return st.one_of([_for(x) for x in t.types])
    if isinstance(t, mi.ListType):
        return st.lists(_for(t.item_type), max_size=min(t.max_length or 3, 3))
    if isinstance(t, mi.DictType):
        assert isinstance(t.key_type, mi.StrType), t
        if isinstance(t.value_type, mi.IntType):
            return st.dictionaries(keys(10), _for(t.value_type), max_size=3)
        assert isinstance(t.value_type, mi.AnyType), t
        return bodies
    raise NotImplementedError(f"no strategy for {t!r}")


def struct_strategy(cls: type[msgspec.Struct]) -> st.SearchStrategy[msgspec.Struct]:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    kwargs = {f.name: _for(f.type) for f in info.fields}
    return st.builds(cls, **kwargs)


client_frames = st.one_of([struct_strategy(t) for t in CLIENT_TYPES])
server_frames = st.one_of([struct_strategy(t) for t in SERVER_TYPES])
any_frames = client_frames | server_frames

#: Arbitrary MessagePack values (as the reference ``msgpack`` package packs them).
msgpack_scalars = (
    st.none()
    | st.booleans()
    | st.integers(INT64_MIN, 2**64 - 1)
    | st.floats()
    | st.text(max_size=20)
    | st.binary(max_size=20)
)


def _ext() -> st.SearchStrategy[Any]:
    import msgpack

    return st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=8)) | st.builds(
        msgpack.Timestamp, st.integers(0, 2**32 - 1), st.integers(0, 999_999_999)
    )


msgpack_values = st.recursive(
    msgpack_scalars | _ext(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers(-5, 5) | st.binary(max_size=4), inner, max_size=4)
    ),
    max_leaves=16,
)


def garbage_frame_maps(tags: frozenset[str]) -> st.SearchStrategy[dict[Any, Any]]:
    """Maps with a valid ``t`` and the type's own field names mapped to arbitrary values."""
    by_tag = {t.__struct_config__.tag: t for t in (*CLIENT_TYPES, *SERVER_TYPES)}

    @st.composite
    def build(draw: st.DrawFn) -> dict[Any, Any]:
        tag = draw(st.sampled_from(sorted(tags)))
        names = list(by_tag[tag].__struct_fields__)
        chosen = draw(st.lists(st.sampled_from(names), unique=True)) if names else []
        out: dict[Any, Any] = {"t": tag}
        for name in chosen:
            out[name] = draw(msgpack_values)
        out.update(draw(st.dictionaries(st.text(max_size=6), msgpack_values, max_size=2)))
        out["t"] = tag
        return out

    return build()
