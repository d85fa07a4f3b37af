"""Client.identify / set_attributes / consent for the signed-in user, over the WebSocket protocol
against a real node: what chat learnt lands on the same profile, anonymous profiles merge in,
bad input is refused with its code (nothing stored) and the connection keeps serving."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from parley.sdk import AdminClient, Client, ReplyError
from tests.harness import RunningNode, running_node

pytestmark = pytest.mark.timeout(60)

SCHEMA = {
    "attributes": {"plan": {"type": "string"}, "ltv": {"type": "number"}, "vip": {"type": "bool"}},
    "consent_topics": ["marketing", "marketing:sms"],
    "identity": {"default_region": "GB"},
}


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[RunningNode]:
    async with running_node(tmp_path) as running:
        async with AdminClient(running.http, running.api_key) as admin:
            await admin.set_audience_schema(SCHEMA)
        yield running


@asynccontextmanager
async def user(node: RunningNode, name: str) -> AsyncIterator[Client]:
    client = Client(node.url, token=await node.token(name), min_reconnect_delay=0.02, max_reconnect_delay=0.2)
    async with client:
        yield client


async def test_the_signed_in_user_identifies_sets_attributes_and_consents(node: RunningNode) -> None:
    async with AdminClient(node.http, node.api_key) as admin:
        anon = await admin.identify([("cookie", "ck-42")])
        await admin.update_audience_profile(anon.pid, attributes={"ltv": 9}, consent={"marketing": "denied"})
        await node.node.services.profiles.tag(node.app.app, "ann", "bot", [], [], {"order": "A-1"})
        async with user(node, "ann") as ann:
            pid = await ann.identify({"phone": "020 7946 0958", "cookie": "ck-42"})
            await ann.set_attributes(
                {"plan": "gold", "vip": True}, timezone="Europe/London", language="en-GB"
            )
            await ann.consent("marketing:sms", True)
            await ann.consent("marketing:sms", False)
        person = await admin.audience_profile(pid)
        assert person.users == ("ann",) and ("phone", "+442079460958") in person.identifiers
        assert person.attributes == {"plan": "gold", "vip": True, "ltv": 9.0}, (
            "the anonymous profile merged in"
        )
        assert person.chat["attributes"] == {"order": "A-1"}, "what chat learnt is on the same profile"
        assert (person.timezone, person.timezone_source, person.language) == ("Europe/London", "sdk", "en-GB")
        assert person.consent["marketing"]["state"] == "denied"
        assert person.consent["marketing:sms"]["state"] == "withdrawn"
        ledger = await admin.consent_ledger(pid, "marketing:sms")
        assert [(e["state"], e["via"]["kind"]) for e in ledger] == [("granted", "sdk"), ("withdrawn", "sdk")]
        assert (await admin.audience_profile(anon.pid)).pid == pid


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda c: c.identify({"phone": "12"}), "identifier_invalid"),
        (lambda c: c.identify({"email": "not-an-email"}), "identifier_invalid"),
        (lambda c: c.identify([("fax", "1")]), "identifier_invalid"),
        (lambda c: c.identify({"user": "somebody-else"}), "identifier_invalid"),  # the token says who
        (lambda c: c.set_attributes({"plan": "gold", "shoe_size": 9}), "attribute_unknown"),
        (lambda c: c.set_attributes({"plan": "gold", "ltv": "lots"}), "attribute_type"),
        (lambda c: c.set_attributes({"plan": "gold"}, timezone="Mars/Base"), "invalid_request"),
        (lambda c: c.consent("newsletter", True), "consent_invalid"),
    ],
)
async def test_bad_input_is_refused_nothing_is_stored_and_the_connection_serves_on(
    node: RunningNode, call: object, code: str
) -> None:
    async with user(node, "bob") as bob:
        with pytest.raises(ReplyError) as exc:
            await call(bob)  # type: ignore[operator]
        assert exc.value.code == code
        assert await bob.identify({"email": "Bob@Example.com"}), "the connection still serves"
    async with AdminClient(node.http, node.api_key) as admin:
        person = await admin.profile_by_identifier("user", "bob")
        assert person.attributes == {} and person.consent == {}
        assert person.identifiers == (("email", "bob@example.com"), ("user", "bob"))


async def test_events_tracked_while_the_profile_is_merged_all_land_on_the_survivor(node: RunningNode) -> None:
    async with AdminClient(node.http, node.api_key) as admin:
        await admin.set_audience_schema({**SCHEMA, "events": {"viewed": {"properties": {"n": "number"}}}})
        phone = await admin.identify([("phone", "+442079460958")])
        async with user(node, "cara") as cara, user(node, "cara") as phone_app:  # two connections race
            await cara.track("viewed", {"n": -1})  # cara's own profile exists before the merge
            tracks = [cara.track("viewed", {"n": n}) for n in range(30)]
            merge = phone_app.identify({"phone": "020 7946 0958"})
            results = await asyncio.gather(*tracks[:15], merge, *tracks[15:])
        assert results[15] == phone.pid, "the phone's profile survives (phone outranks user)"
        events = [e for e in await admin.user_events("cara") if e.event == "viewed"]  # not lifecycle_changed
        assert len(events) == 31 and {e.pid for e in events} == {phone.pid}, (
            "no event left on the merged profile"
        )


async def test_a_user_cannot_take_another_persons_phone_and_keeps_their_own_profile(
    node: RunningNode,
) -> None:
    async with AdminClient(node.http, node.api_key) as admin:
        bob = await admin.identify([("user", "bob"), ("phone", "+442079460958")])
        async with user(node, "ann") as ann:
            mine = await ann.identify({"phone": "+44 20 7946 0958", "email": "ann@example.com"})
            assert mine != bob.pid, (
                "bob's profile is somebody else: not merged into ann's, ann's not into his"
            )
            again = await ann.identify({"phone": "+447400123456"})  # a second phone of her own
        assert again == mine
        assert (await admin.profile_by_identifier("phone", "+442079460958")).pid == bob.pid, (
            "the phone stayed"
        )
        person = await admin.audience_profile(mine)
        assert set(person.identifiers) == {
            ("user", "ann"),
            ("email", "ann@example.com"),
            ("phone", "+447400123456"),
        }
