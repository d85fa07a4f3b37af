"""Plain data: the one rule for free-form values on every path (pure).

Free-form values — message bodies, conversation and user ``meta``, profile
attributes, knowledge chunks — come from clients (gateway frames) and from
back-ends (the admin API), are stored by SQLite or MongoDB and are decoded again
by every SDK. A value one of them cannot hold must be refused where it enters,
with ``invalid_request``/``invalid_frame``, never found out later inside a store
(where the failure looks temporary, is retried, and fails a whole group-commit
batch of other tenants' messages) or inside a client (which cannot decode the
frame and loses the message or the whole history page).

Plain data is: maps with string keys, arrays, strings, booleans, nil, floats and
integers in the signed 64-bit range, nested at most :data:`MAX_DEPTH` deep.

Keys written by clients must also be storable as MongoDB field names on both
stores alike (so that moving from SQLite to MongoDB never meets a stored value
it cannot write):

* no NUL character (BSON terminates names with it: the driver refuses the document);
* no leading ``$`` (operator syntax; ``{"$ref", "$id"}`` even decodes as a DBRef);
* no ``.`` (path syntax: an update of ``a.b`` writes a nested field instead).

Those key rules apply to what comes in (:func:`problem` with ``keys=True``).
Reading stored data (and a client decoding the server's frames) checks only
what decoding needs (``keys=False``), so data stored by older versions stays
readable; :func:`repair` turns anything else into plain data on read.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec
import msgspec.inspect as mi

__all__ = ["INT_MAX", "INT_MIN", "MAX_DEPTH", "TOO_DEEP", "key_problem", "problem", "repair", "repaired"]

#: Deepest nesting of maps/arrays inside one free-form value (body, meta).
MAX_DEPTH = 32
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
#: What :func:`repair` puts in place of a map or array nested deeper than :data:`MAX_DEPTH`.
TOO_DEEP = "[removed: nested too deeply]"


def key_problem(key: object) -> str | None:
    """Why ``key`` may not be a key of a free-form map written by a client, or ``None``."""
    if not isinstance(key, str):
        return "map keys must be strings"
    if "\x00" in key:
        return "map keys must not contain NUL"
    if key.startswith("$"):
        return "map keys must not start with '$'"
    if "." in key:
        return "map keys must not contain '.'"
    return None


def problem(value: Any, *, keys: bool = True, depth: int = 0) -> str | None:
    """Why ``value`` is not plain data, or ``None``.

    ``keys``: also apply the key rules (for values coming in). A msgspec Struct
    is walked through its free-form fields, each counted from depth 0. Runs on
    every send: strings (most values and every key) take the fast path.
    """
    kind = type(value)
    if kind is str or value is None or kind is bool or kind is float:
        return None
    if kind is int:
        return None if INT_MIN <= value <= INT_MAX else "integer outside the signed 64-bit range"
    if kind is dict:
        if depth >= MAX_DEPTH:
            return f"value nested deeper than {MAX_DEPTH}"
        for key, item in value.items():
            if type(key) is not str:
                return "map keys must be strings"
            if keys and ("\x00" in key or "." in key or key[:1] == "$"):
                return key_problem(key)
            if type(item) is not str:
                why = problem(item, keys=keys, depth=depth + 1)
                if why:
                    return why
        return None
    if kind is list:
        if depth >= MAX_DEPTH:
            return f"value nested deeper than {MAX_DEPTH}"
        for item in value:
            if type(item) is not str:
                why = problem(item, keys=keys, depth=depth + 1)
                if why:
                    return why
        return None
    return _other_problem(value, keys, depth)


def _other_problem(value: Any, keys: bool, depth: int) -> str | None:
    """:func:`problem` for subclasses of the plain types and for Structs (the slow path)."""
    if isinstance(value, (str, bool, float)):
        return None
    if isinstance(value, int):
        return None if INT_MIN <= value <= INT_MAX else "integer outside the signed 64-bit range"
    if isinstance(value, (dict, list)):  # a subclass: walk a plain copy
        return problem(dict(value) if isinstance(value, dict) else list(value), keys=keys, depth=depth)
    if isinstance(value, msgspec.Struct):
        for name in _free_fields(type(value)):
            why = problem(getattr(value, name), keys=keys)
            if why:
                return why
        return None
    return f"unsupported value of type {type(value).__name__} (extension, timestamp or binary)"


def repair(value: Any, depth: int = 0) -> Any:
    """A plain copy of a stored ``value``: what a client can always decode.

    Integers outside int64 become their decimal string, non-string keys their
    ``str``, other types (BSON ``Int64`` stays an int) their ``str``, and maps or
    arrays nested too deeply :data:`TOO_DEEP`. Key rules are not applied:
    stored keys stay as they are.
    """
    if value is None or isinstance(value, (str, bool, float)):
        return value
    if isinstance(value, int):
        return int(value) if INT_MIN <= value <= INT_MAX else str(int(value))
    if isinstance(value, (dict, list)) and depth >= MAX_DEPTH:
        return TOO_DEEP
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(k): repair(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [repair(v, depth + 1) for v in value]
    return str(value)


def repaired(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` itself when a client can decode it (the usual case: no copy), else :func:`repair`."""
    return value if problem(value, keys=False) is None else repair(value)


def _plain_by_type(t: mi.Type) -> bool:
    """True if msgspec's own validation of ``t`` already guarantees plain data."""
    if isinstance(t, (mi.StrType, mi.BoolType, mi.FloatType, mi.LiteralType, mi.NoneType, mi.EnumType)):
        return True
    if isinstance(t, mi.BytesType):  # a typed binary field (knowledge vectors): meant, not free-form
        return True
    if isinstance(t, mi.IntType):
        return t.ge is not None and t.ge >= INT_MIN and t.le is not None and t.le <= INT_MAX
    if isinstance(t, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        return _plain_by_type(t.item_type)
    if isinstance(t, mi.UnionType):
        return all(_plain_by_type(u) for u in t.types)
    return False


@cache
def _free_fields(cls: type[msgspec.Struct]) -> tuple[str, ...]:
    """The fields of ``cls`` that :func:`problem` must walk (free-form or unbounded ones)."""
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    return tuple(f.name for f in info.fields if not _plain_by_type(f.type))
