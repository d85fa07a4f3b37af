"""The shared vocabulary (proto/vocabulary.py) is the one spelling: the wire's ``Literal`` types,
the admin API's schemas, the CLI and the SDK/bot name exactly the enums' values."""

from __future__ import annotations

import typing

from parley.proto import frames, vocabulary
from parley.proto.vocabulary import BOT_SILENT_STATES, MemberRole, ReviewState, SupportState, UserRole


def _literal(tp: object) -> set[str]:
    return set(typing.get_args(tp))


def test_each_word_is_its_wire_string() -> None:
    assert UserRole.BOT == "bot" and f"{UserRole.AGENT}" == "agent" and str(SupportState.AGENT) == "agent"
    assert {*SupportState} == {"bot", "waiting_for_agent", "agent", "resolved"}
    assert {*ReviewState} == {"open", "resolved"}
    assert {*SupportState} > BOT_SILENT_STATES and SupportState.BOT not in BOT_SILENT_STATES


def test_the_frames_member_roles_are_the_enums() -> None:
    assert _literal(frames.Role) == {*MemberRole}


def test_the_sdk_and_the_bot_use_the_same_states() -> None:
    from parley.bots.runner import SILENT_STATES
    from parley.sdk.support import SupportState as SdkSupportState

    assert SdkSupportState is SupportState
    # One rule: the bot keeps quiet exactly where the server refuses it (no private extra).
    assert SILENT_STATES == BOT_SILENT_STATES
    assert SupportState.WAITING_FOR_AGENT in BOT_SILENT_STATES, "it already said an agent is coming"


def test_the_module_is_pure_and_public() -> None:
    assert set(vocabulary.__all__) == {
        "BOT_SILENT_STATES",
        "MemberRole",
        "ReviewState",
        "SupportState",
        "UserRole",
    }
