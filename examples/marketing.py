"""A campaign in the chat: Ann gets it from the brand, taps Stop, and the next send is refused.

Run against a started server (see README):
    eval "$(.venv/bin/parley app create --name demo)"
    .venv/bin/python examples/marketing.py
"""

import asyncio
import os

import httpx

from parley.sdk import AdminClient, CampaignEvent, Client, MessageEvent

SERVER = os.environ.get("PARLEY_URL", "http://127.0.0.1:8700")
WS = SERVER.replace("http", "ws", 1) + "/ws"

OFFER = {
    "versions": {
        "en": {
            "text": "Hi {{first_name|there}}, 20% off winter boots today",
            "buttons": [
                {"id": "shop", "label": "Shop now", "action": "url", "url": "https://shop.example/boots"}
            ],
            "quick_replies": [{"id": "stop", "label": "Stop these", "action": "opt_out"}],
        },
        "zh": {"text": "{{first_name|朋友}}，冬靴今日八折"},
    },
    "default": "en",
}


async def main() -> None:
    async with AdminClient(SERVER, os.environ["PARLEY_API_KEY"]) as admin:
        await admin.set_audience_schema(
            {"attributes": {"first_name": {"type": "string"}}, "consent_topics": ["marketing"]}
        )
        await admin.set_send_policy({"caps": [{"limit": 2, "days": 1}], "official_name": "Boot Shop"})
        ann = await admin.identify([("user", "ann")])
        await admin.update_audience_profile(
            ann.pid, attributes={"first_name": "Ann"}, consent={"marketing": "granted"}, ref="signup-form"
        )
        token = (await admin.create_token("ann")).token

        async with Client(WS, token=token) as client:
            inbox = client.events(MessageEvent, CampaignEvent)
            campaign = await admin.create_campaign(
                {
                    "name": "Winter boots",
                    "topic": "marketing",
                    "pids": [ann.pid],
                    "variants": [{"id": "a", "weight": 100, "template": OFFER}],
                }
            )
            async for event in inbox:
                if isinstance(event, CampaignEvent):
                    break
            print(f"ann got: {event.message.body['text']}")
            print(f"buttons: {[b.label for b in event.campaign.buttons + event.campaign.quick_replies]}")
            link = await client.click(event.message, "shop")  # a tracked link: counts the click, redirects
            async with httpx.AsyncClient() as http:
                print(f"shop opens: {(await http.get(link)).headers['location']}")
            await client.click(event.message, "stop")  # one tap: consent withdrawn, confirmed in the chat
            async for event in inbox:
                if isinstance(event, MessageEvent) and "opt_out" in event.message.body:
                    print(f"{event.message.sender}: {event.message.body['text']}")
                    break

        for _ in range(100):  # the campaign's sender finishes within a second here
            done = await admin.campaign(campaign["cid"])
            if done["state"] == "done":
                break
            await asyncio.sleep(0.1)
        print(f"campaign: {done['counts']}")
        again = await admin.push("boots-reminder", ann.pid, OFFER)
        print(f"next send: {again['outcome']}")


asyncio.run(main())
