"""The shared words are spelled once: no comparison in server/, sdk/ or bots/ against a string
that is an error code, a support state or a user, member or review role — the code names the
enum (``proto/errors.py``, ``proto/vocabulary.py``) instead."""

from __future__ import annotations

import ast
from pathlib import Path

from parley.proto.errors import ErrorCode
from parley.proto.vocabulary import MemberRole, ReviewState, SupportState, UserRole

ROOT = Path(__file__).resolve().parents[2]
WORDS = {str(w) for enum in (SupportState, UserRole, MemberRole, ReviewState) for w in enum} | {
    code.value for code in ErrorCode
}
#: Other vocabularies that happen to share a word: who said a turn of the bot's conversation
#: history (customer, bot, agent) is not a user's role.
ELSEWHERE = {("bots/answer.py", "role"), ("bots/summary.py", "role")}


def _compared_literals(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Compare):
            continue
        left = node.left.attr if isinstance(node.left, ast.Attribute) else ""
        if (str(path.relative_to(ROOT)), left) in ELSEWHERE:
            continue
        for c in ast.walk(node):
            if isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value in WORDS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_shared_word_is_compared_as_a_string_literal() -> None:
    found = [
        hit
        for pkg in ("server", "sdk", "bots")
        for p in sorted((ROOT / pkg).rglob("*.py"))
        for hit in _compared_literals(p)
    ]
    assert not found, "name the enum instead:\n" + "\n".join(found)


def test_the_wire_and_api_literal_types_spell_the_enums() -> None:
    """msgspec validates against ``Literal`` types (and the OpenAPI document shows them), so they
    stay; each must name exactly the enum's values (or, for member adds, a subset)."""
    import typing

    from parley.proto import frames
    from parley.sdk import conversations as sdk_conversations
    from parley.server.admin import schemas

    def values(struct: type, field: str) -> set[str]:
        return set(typing.get_args(typing.get_type_hints(struct)[field]))

    assert set(typing.get_args(frames.Role)) == {*MemberRole}
    assert set(typing.get_args(sdk_conversations.Role)) == {*MemberRole}
    assert values(schemas.CreateUser, "role") == {*UserRole}
    assert values(schemas.AddMembers, "role") < {*MemberRole}
