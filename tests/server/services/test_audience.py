# ruff: noqa: F811  (pytest fixtures imported from tests/server/store/conftest.py are parameters here)
"""AudienceService over real stores (SQLite and the MongoDB wire server): the schema, typed
attributes, tags, consent, timezone/language, and bad input refused with nothing half-stored."""

from __future__ import annotations

import pytest

from parley.proto.errors import ErrorCode
from parley.server.errors import ServiceError
from parley.server.ports import Store
from parley.server.services.audience import AudienceLimits, AudienceService, TagSpec
from tests.server.store.conftest import make_store, store  # noqa: F401 (fixtures: both adapters)

APP, OTHER = "acme", "other"
SCHEMA = {
    "attributes": {
        "plan": {"type": "string", "indexed": True},
        "ltv": {"type": "number"},
        "vip": {"type": "bool"},
        "birthday": {"type": "datetime"},
        "likes": {"type": "string_list"},
        "timezone": {"type": "string"},
    },
    "consent_topics": ["marketing", "marketing:sms"],
    "defaults": {"timezone": "Europe/Paris", "language": "fr"},
}


def code(exc: pytest.ExceptionInfo[ServiceError]) -> str:
    return exc.value.code.value


@pytest.fixture
async def svc(store: Store) -> AudienceService:
    service = AudienceService(store, AudienceLimits(string_max=20, list_max=3))
    await service.put_schema(APP, SCHEMA)
    return service


async def test_typed_attributes_round_trip(svc: AudienceService) -> None:
    pid = await svc.pid_for_user(APP, "ann")
    view = await svc.update(
        APP, pid, actor="api",
        attributes={"plan": "gold", "ltv": 12.5, "vip": True, "birthday": "1990-05-01T00:00:00Z", "likes": ["tea"]},
    )  # fmt: skip
    assert view["attributes"] == {
        "plan": "gold", "ltv": 12.5, "vip": True, "birthday": 641520000000, "likes": ["tea"]}  # fmt: skip
    assert view["users"] == ["ann"]
    view = await svc.update(APP, pid, actor="api", attributes={"vip": False, "plan": None})
    assert view["attributes"]["vip"] is False and "plan" not in view["attributes"]


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"unknown": 1}, "attribute_unknown"),
        ({"ltv": "12"}, "attribute_type"),
        ({"vip": 1}, "attribute_type"),
        ({"ltv": True}, "attribute_type"),
        ({"birthday": "1990-05-01T00:00:00"}, "attribute_type"),  # no offset: ambiguous
        ({"plan": "x" * 21}, "attribute_type"),
        ({"likes": ["a", "b", "c", "d"]}, "attribute_type"),
        ({"likes": "tea"}, "attribute_type"),
    ],
)
async def test_bad_attributes_are_refused_and_nothing_is_stored(
    svc: AudienceService, attributes: dict[str, object], expected: str
) -> None:
    pid = await svc.pid_for_user(APP, "ann")
    with pytest.raises(ServiceError) as exc:
        await svc.update(APP, pid, actor="api", attributes={"plan": "gold", **attributes})
    assert code(exc) == expected
    assert (await svc.view(APP, pid))["attributes"] == {}, (
        "the good attribute of the request was not stored either"
    )


async def test_tags_keep_provenance_and_history(svc: AudienceService) -> None:
    pid = await svc.pid_for_user(APP, "ann")
    await svc.update(APP, pid, actor="agent:bo", source="agent", add_tags=[TagSpec("vip", 0.8, "m_1")])
    await svc.update(APP, pid, actor="rule:r1", source="rule", add_tags=[TagSpec("vip", 0.95, "e_9", ttl=60)])
    view = await svc.update(APP, pid, actor="console:ann", remove_tags=["vip"])
    assert view["tags"] == []
    history = await svc.tag_history(APP, pid, "vip")
    assert [(h["action"], h["source"], h["evidence"], h["actor"]) for h in history] == [
        ("set", "agent", "m_1", "agent:bo"), ("set", "rule", "e_9", "rule:r1"), ("remove", "rule", "e_9", "console:ann")]  # fmt: skip


async def test_consent_is_a_ledger_and_topics_are_declared(svc: AudienceService) -> None:
    pid = await svc.pid_for_user(APP, "ann")
    await svc.update(APP, pid, actor="api", consent=[("marketing", "granted")], via=("api", "req-1"))
    view = await svc.update(
        APP, pid, actor="sdk", consent=[("marketing", "withdrawn")], via=("message", "m_7")
    )
    assert view["consent"]["marketing"]["state"] == "withdrawn"
    ledger = await svc.consent_ledger(APP, pid)
    assert [(e["state"], e["via"]) for e in ledger] == [
        ("granted", {"kind": "api", "ref": "req-1"}), ("withdrawn", {"kind": "message", "ref": "m_7"})]  # fmt: skip
    for topic, state in (("newsletter", "granted"), ("marketing", "maybe")):
        with pytest.raises(ServiceError) as exc:
            await svc.update(APP, pid, actor="api", attributes={"plan": "x"}, consent=[(topic, state)])
        assert code(exc) == "consent_invalid"
    assert "plan" not in (await svc.view(APP, pid))["attributes"]


async def test_timezone_comes_from_the_sdk_then_an_attribute_then_the_app(svc: AudienceService) -> None:
    pid = await svc.pid_for_user(APP, "ann")
    view = await svc.view(APP, pid)
    assert (view["timezone"], view["timezone_source"], view["language"]) == ("Europe/Paris", "default", "fr")
    view = await svc.update(APP, pid, actor="api", attributes={"timezone": "Asia/Tokyo"})
    assert (view["timezone"], view["timezone_source"]) == ("Asia/Tokyo", "attribute")
    view = await svc.update(APP, pid, actor="sdk", timezone="America/New_York", language="en-US")
    assert (view["timezone"], view["timezone_source"], view["language"]) == (
        "America/New_York",
        "sdk",
        "en-US",
    )
    for bad in ({"timezone": "Mars/Olympus"}, {"language": "english please"}):
        with pytest.raises(ServiceError) as exc:
            await svc.update(APP, pid, actor="sdk", **bad)  # type: ignore[arg-type]
        assert code(exc) == "invalid_request"


@pytest.mark.parametrize(
    "doc",
    [
        {"attributes": {"Bad Name": {"type": "string"}}},
        {"attributes": {"a": {"type": "decimal"}}},
        {"consent_topics": ["Marketing!"]},
        {"identity": {"merge_priority": ["phone"]}},
        {"identity": {"merge_guard": -1}},
        {"defaults": {"timezone": "Nowhere/Land"}},
        {"colour": "blue"},
        {"events": "not an object"},
        [],
    ],
)
async def test_a_bad_schema_is_refused_and_the_old_one_stays(svc: AudienceService, doc: object) -> None:
    with pytest.raises(ServiceError) as exc:
        await svc.put_schema(APP, doc)
    assert exc.value.code is ErrorCode.SCHEMA_INVALID
    assert await svc.get_schema(APP) == (1, SCHEMA)


async def test_nothing_crosses_apps(svc: AudienceService) -> None:
    pid = await svc.pid_for_user(APP, "ann")
    await svc.update(APP, pid, actor="api", attributes={"plan": "gold"})
    with pytest.raises(ServiceError) as exc:
        await svc.view(OTHER, pid)
    assert code(exc) == "profile_not_found"
    with pytest.raises(ServiceError) as exc:
        await svc.update(OTHER, await svc.pid_for_user(OTHER, "ann"), actor="api", attributes={"plan": "x"})
    assert code(exc) == "attribute_unknown", "the other app has its own (empty) schema"
    assert await svc.get_schema(OTHER) == (0, {})
