#!/usr/bin/env python
"""Generate the browser client's frame schema from the protocol's own definitions.

Usage: ``python scripts/gen_web_schema.py [--check]``

Writes ``web/client/src/schema.js``: for every frame type (client and server)
and every nested record, its fields in wire order with their type, whether they
are required and their default, plus the error table (code → action), the close
codes after which a client must not reconnect and the protocol version. It also
writes JSDoc typedefs of every frame as decoded (defaults filled in), then rebuilds
the bundle that embeds it (``scripts/build_web``) when ``web/client`` has its tools. The
JavaScript encoder orders keys and omits defaults from this table, so it cannot
drift from ``proto/frames*.py``; ``--check`` (run by ``scripts/check``) exits 1
when the committed file differs from what this would write.
"""

from __future__ import annotations

import json
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import msgspec
from msgspec import inspect as mi

from parley.proto import PROTOCOL_VERSION
from parley.proto import frames as f
from parley.proto.errors import CloseCode, ErrorCode, action_for

OUT = Path(__file__).resolve().parent.parent / "web" / "client" / "src" / "schema.js"

#: A field's type as the JavaScript side checks it: "str" | "int" | "bool" | "float" | "any"
#: | "map" | ["list", T] | ["opt", T] | ["rec", name] | ["bound", T, bounds].
Desc = str | list[Any]
_BOUNDS = ("ge", "le", "gt", "lt", "min_length", "max_length", "pattern")


def describe(t: mi.Type, records: dict[str, mi.StructType]) -> Desc:
    """The compact type descriptor of one msgspec type (records collected on the way)."""
    bounds = {k: getattr(t, k) for k in _BOUNDS if getattr(t, k, None) is not None}
    if isinstance(t, mi.LiteralType):
        return ["bound", "str", {"values": sorted(t.values)}]
    plain = _describe(t, records)
    return ["bound", plain, bounds] if bounds else plain


def _describe(t: mi.Type, records: dict[str, mi.StructType]) -> Desc:
    if isinstance(t, mi.StrType):
        return "str"
    if isinstance(t, mi.BoolType):
        return "bool"
    if isinstance(t, mi.IntType):
        return "int"
    if isinstance(t, mi.FloatType):
        return "float"
    if isinstance(t, mi.AnyType):
        return "any"
    if isinstance(t, mi.DictType):
        return "map"
    if isinstance(t, mi.ListType):
        return ["list", describe(t.item_type, records)]
    if isinstance(t, mi.StructType):
        records[t.cls.__name__] = t
        return ["rec", t.cls.__name__]
    if isinstance(t, mi.UnionType):
        rest = [x for x in t.types if not isinstance(x, mi.NoneType)]
        if len(rest) == 1 and len(rest) < len(t.types):
            return ["opt", describe(rest[0], records)]
    raise TypeError(f"no JavaScript descriptor for {t!r}")


def _default(field: mi.Field) -> Any:
    if field.default is not msgspec.NODEFAULT:
        return field.default
    if field.default_factory is not msgspec.NODEFAULT:
        return field.default_factory()
    return None


def fields(t: mi.StructType, records: dict[str, mi.StructType]) -> list[list[Any]]:
    """``[name, type, required, default]`` per field, in wire order (``t`` excluded)."""
    return [[x.encode_name, describe(x.type, records), x.required, _default(x)] for x in t.fields]


def _jsdoc(desc: Desc) -> str:
    if isinstance(desc, str):
        return {"str": "string", "int": "number", "bool": "boolean", "float": "number"}.get(
            desc, "Record<string, any>" if desc == "map" else "any"
        )
    kind, inner = desc[:2]
    if kind == "bound":
        values = desc[2].get("values")
        return " | ".join(json.dumps(v) for v in values) if values else _jsdoc(inner)
    if kind == "list":
        return f"Array<{_jsdoc(inner)}>"
    if kind == "opt":
        return f"{_jsdoc(inner)} | null"
    return str(inner)


def _typedef(name: str, tag: str | None, table: list[list[Any]]) -> str:
    parts = [f't: "{tag}"'] if tag else []
    parts += [f"{n}: {_jsdoc(d)}" for n, d, _req, _default in table]
    return f"/** @typedef {{{{{', '.join(parts)}}}}} {name} */"


def _union(members: tuple[Any, ...]) -> dict[str, tuple[str, mi.StructType]]:
    out: dict[str, tuple[str, mi.StructType]] = {}
    for cls in members:
        info = mi.type_info(cls)
        assert isinstance(info, mi.StructType) and isinstance(info.tag, str)
        out[info.tag] = (cls.__name__, info)
    return out


def render() -> str:
    """The whole generated module."""
    records: dict[str, mi.StructType] = {}
    sides = {
        "CLIENT_FRAMES": _union(typing.get_args(f.ClientFrame)),
        "SERVER_FRAMES": _union(typing.get_args(f.ServerFrame)),
    }
    tables = {
        side: {tag: fields(info, records) for tag, (_n, info) in frames.items()}
        for side, frames in sides.items()
    }
    record_tables: dict[str, list[list[Any]]] = {}
    while len(record_tables) < len(records):  # records may nest records
        for name, info in list(records.items()):
            record_tables.setdefault(name, fields(info, records))
    lines = [
        "// GENERATED by scripts/gen_web_schema.py from proto/frames*.py and proto/errors.py.",
        "// Do not edit: change the Python definitions and run the script (scripts/check runs --check).",
        "/**",
        " * @module schema",
        " * Every frame's fields in wire order: `[name, type, required, default]`; a type is",
        ' * "str" | "int" | "bool" | "float" | "any" | "map" | ["list", T] | ["opt", T] | ["rec", Name].',
        " */",
        "",
        "/** @typedef {string | Array<any>} TypeDesc */",
        "/** @typedef {Array<[string, TypeDesc, boolean, any]>} FieldTable */",
        "",
        "/** The protocol version this client speaks (`hello.v`). */",
        f"export const PROTOCOL_VERSION = {PROTOCOL_VERSION};",
    ]
    for side, table in tables.items():
        who = "the client sends" if side == "CLIENT_FRAMES" else "the server sends"
        lines += ["", f"/** Frames {who}, by `t`. @type {{Record<string, FieldTable>}} */"]
        lines.append(f"export const {side} = {_js(table)};")
    lines += ["", "/** Records nested inside frames, by name. @type {Record<string, FieldTable>} */"]
    lines.append(f"export const RECORDS = {_js(dict(sorted(record_tables.items())))};")
    # Only the codes that are not fatal: every other code (and any unknown one) is fatal, so a
    # new fatal code needs no regeneration of the client.
    actions = {c.value: action_for(c.value).value for c in ErrorCode if action_for(c.value).value != "fatal"}
    lines += [
        "",
        "/** Error codes whose action is not `fatal` (every other code is fatal). @type {Record<string, string>} */",
    ]
    lines.append(f"export const ERROR_ACTIONS = {_js(actions)};")
    no_reconnect = sorted(int(c) for c in CloseCode if not c.reconnect)
    lines += ["", "/** Close codes after which a client must not reconnect by itself. @type {number[]} */"]
    lines.append(f"export const NO_RECONNECT = {_js(no_reconnect)};")
    refresh = [int(CloseCode.TOKEN_EXPIRED), int(CloseCode.TOKEN_REVOKED)]
    lines += [
        "",
        "/** Close codes after which the token must be refreshed before reconnecting. @type {number[]} */",
    ]
    lines.append(f"export const REFRESH_TOKEN = {_js(refresh)};")
    lines += ["", "// Typedefs of every frame and record as decoded (defaults filled in)."]
    for name, table in sorted(record_tables.items()):
        lines.append(_typedef(name, None, table))
    for side, frames in sides.items():
        for tag, (name, _info) in frames.items():
            lines.append(_typedef(f"{name}Frame", tag, tables[side][tag]))
        union = " | ".join(f"{name}Frame" for name, _i in frames.values())
        alias = "ClientFrame" if side == "CLIENT_FRAMES" else "ServerFrame"
        lines.append(f"/** @typedef {{{union}}} {alias} */")
    return "\n".join(lines) + "\n"


def _js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def main(argv: list[str]) -> int:
    """Write the schema, or with ``--check`` report whether the committed one is current."""
    text = render()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is stale: run python scripts/gen_web_schema.py", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    # the bundle shipped in the package embeds the schema: rebuild it when the tools are here
    root = OUT.parents[3]
    if (root / "web" / "client" / "node_modules" / ".bin" / "esbuild").exists():
        subprocess.run([str(root / "scripts" / "build_web")], check=True)
    else:
        print("now run: (cd web/client && npm ci) && scripts/build_web", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
