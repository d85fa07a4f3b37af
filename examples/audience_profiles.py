"""Audience profiles and One ID against a running Parley server (docs/AUDIENCE.md shows this file).

Run against a started server (see README):
    eval "$(.venv/bin/parley app create --name demo)"
    .venv/bin/python examples/audience_profiles.py
"""

import asyncio
import os

from parley.sdk import AdminClient, AdminError, Client

SERVER = os.environ.get("PARLEY_URL", "http://127.0.0.1:8700")
WS = SERVER.replace("http", "ws", 1) + "/ws"

SCHEMA = {
    "attributes": {
        "plan": {"type": "string", "indexed": True},
        "ltv": {"type": "number"},
        "vip": {"type": "bool"},
        "signed_up": {"type": "datetime"},
        "interests": {"type": "string_list"},
    },
    "consent_topics": ["marketing", "marketing:sms"],
    "identity": {"default_region": "GB", "merge_guard": 5},
    "defaults": {"timezone": "Europe/London", "language": "en"},
}


async def main() -> None:
    async with AdminClient(SERVER, os.environ["PARLEY_API_KEY"]) as admin:
        await admin.set_audience_schema(SCHEMA)

        # A visitor browses anonymously: the back-end knows only a cookie.
        visitor = await admin.identify([("cookie", "ck-7f3a")])
        await admin.update_audience_profile(
            visitor.pid, attributes={"interests": ["shoes"]}, consent={"marketing": "denied"}, ref="banner-1"
        )

        # Ann signs in on the app: her client identifies her with her phone and that cookie.
        token = (await admin.create_token("ann")).token
        async with Client(WS, token=token) as ann:
            pid = await ann.identify({"phone": "020 7946 0958", "cookie": "ck-7f3a"})
            await ann.set_attributes({"plan": "gold", "vip": True, "signed_up": "2026-01-15T09:30:00+00:00"})
            await ann.set_attributes(timezone="Europe/Paris", language="fr")
            await ann.consent("marketing:sms", True)

        person = await admin.audience_profile(pid)
        print(
            person.attributes
        )  # typed: plan, vip, signed_up (epoch ms), interests from the cookie's profile
        print(person.identifiers)  # ('cookie', 'ck-7f3a'), ('phone', '+442079460958'), ('user', 'ann')
        print(person.timezone, person.timezone_source)  # Europe/Paris sdk
        print(
            person.consent["marketing"]["state"], person.consent["marketing:sms"]["state"]
        )  # denied granted
        assert (
            await admin.audience_profile(visitor.pid)
        ).pid == pid  # the cookie's profile merged into Ann's

        # Bad input is refused with a stable code and nothing of the request is stored.
        try:
            await admin.update_audience_profile(pid, attributes={"plan": "free", "shoe_size": 38})
        except AdminError as exc:
            print(exc.code)  # attribute_unknown
        assert (await admin.audience_profile(pid)).attributes["plan"] == "gold"

        # A second device of Ann's, seen before she signed in there, joins her profile.
        tablet = await admin.identify([("device", "tablet-1")])
        both = await admin.identify([("phone", "+442079460958"), ("device", "tablet-1")])
        assert both.pid == pid and len(both.merged) == 1
        merge = await admin.explain_merge(both.merged[0])
        print(
            merge.survivor == pid, merge.merged == tablet.pid, merge.matched
        )  # True True (('device', 'tablet-1'),)

        # The same tablet used by Ann's partner Ben, who has his own account: not merged (two people).
        ben = await admin.identify([("user", "ben"), ("device", "tablet-1")])
        print(ben.pid != pid, ben.conflicts == (pid,))  # True True

        # A merge can be undone: the tablet's profile lives again with its identifier.
        await admin.unmerge(merge.mid)
        assert (await admin.profile_by_identifier("device", "tablet-1")).pid == tablet.pid


asyncio.run(main())
