"""The error table: every code has an action, and close codes say whether to reconnect."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.proto.errors import Action, CloseCode, ErrorCode, FrameError, ProtocolError, action_for

EXPECTED_ACTIONS = {
    "bad_frame": "fatal",
    "unknown_frame": "fatal",
    "invalid_frame": "fatal",
    "frame_too_large": "fatal",
    "unsupported_version": "fatal",
    "not_authenticated": "fatal",
    "already_authenticated": "fatal",
    "token_invalid": "fatal",
    "token_expired": "reconnect",
    "forbidden": "fatal",
    "not_found": "fatal",
    "invalid_request": "fatal",
    "out_of_range": "fatal",
    "limit_exceeded": "fatal",
    "rate_limited": "retry",
    "unavailable": "retry",
    "internal": "retry",
    "blocked": "fatal",
    "user_disabled": "fatal",
    "token_revoked": "reconnect",
    "muted": "fatal",
    "body_too_large": "fatal",
    "content_refused": "fatal",
    "segment_invalid": "fatal",
    "segment_cycle": "fatal",
    "segment_not_found": "fatal",
    "template_invalid": "fatal",
    "template_variable_unknown": "fatal",
    "template_value_missing": "fatal",
    "policy_invalid": "fatal",
    "campaign_invalid": "fatal",
    "campaign_not_found": "fatal",
    "campaign_state": "fatal",
    "link_invalid": "fatal",
    "journey_invalid": "fatal",
    "journey_cycle": "fatal",
    "journey_unreachable": "fatal",
    "journey_not_found": "fatal",
    "journey_state": "fatal",
    "tag_definition_invalid": "fatal",
    "tag_definition_not_found": "fatal",
    "tag_definition_exists": "fatal",
    "tag_undefined": "fatal",
    "encoding_invalid": "fatal",
    "lease_invalid": "fatal",
    "lease_not_found": "fatal",
    "lease_not_held": "fatal",
    "event_unknown": "fatal",
    "event_invalid": "fatal",
    "batch_too_large": "fatal",
    "event_too_old": "fatal",
    "event_in_future": "fatal",
    "schema_invalid": "fatal",
    "attribute_unknown": "fatal",
    "attribute_type": "fatal",
    "consent_invalid": "fatal",
    "identifier_invalid": "fatal",
    "merge_guard": "fatal",
    "profile_not_found": "fatal",
    "identifier_erased": "fatal",
}

EXPECTED_CLOSE = {
    1000: False,
    1012: True,
    4000: True,
    4001: False,
    4002: False,
    4003: True,
    4004: True,
    4008: True,
    4009: True,
    4029: False,
    4010: False,
    4011: True,
}


def test_the_code_list_is_pinned() -> None:
    """Codes are wire vocabulary: adding or renaming one is a protocol change."""
    assert {c.value for c in ErrorCode} == set(EXPECTED_ACTIONS)


@pytest.mark.parametrize(("code", "action"), sorted(EXPECTED_ACTIONS.items()))
def test_action_table(code: str, action: str) -> None:
    assert action_for(code) is Action(action)
    assert action_for(ErrorCode(code)) is Action(action)


@given(st.text(max_size=30).filter(lambda s: s not in EXPECTED_ACTIONS))
def test_unknown_codes_are_fatal(code: str) -> None:
    assert action_for(code) is Action.FATAL


def test_codes_and_actions_are_strings_on_the_wire() -> None:
    assert ErrorCode.RATE_LIMITED == "rate_limited"
    assert Action.RETRY == "retry"
    assert {a.value for a in Action} == {"retry", "reconnect", "fatal"}


@pytest.mark.parametrize(("code", "reconnect"), sorted(EXPECTED_CLOSE.items()))
def test_close_codes(code: int, reconnect: bool) -> None:
    assert CloseCode(code).reconnect is reconnect


def test_the_close_code_list_is_pinned() -> None:
    assert {int(c) for c in CloseCode} == set(EXPECTED_CLOSE)


def test_application_close_codes_are_in_the_private_range() -> None:
    for code in CloseCode:
        assert code in (CloseCode.NORMAL, CloseCode.SERVICE_RESTART) or 4000 <= code <= 4999


def test_protocol_error_carries_code_and_message() -> None:
    err = ProtocolError(ErrorCode.NOT_FOUND, "no such conversation")
    assert err.code is ErrorCode.NOT_FOUND
    assert err.message == "no such conversation"
    assert str(err) == "not_found: no such conversation"
    assert isinstance(FrameError(ErrorCode.BAD_FRAME, "x"), ProtocolError)
    assert not issubclass(ProtocolError, (ValueError, OSError, ConnectionError))
