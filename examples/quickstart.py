"""Two users chat through a running Parley server.

Run against a started server (see README):
    eval "$(.venv/bin/parley app create --name demo)"
    .venv/bin/python examples/quickstart.py
"""

import asyncio
import os

from parley.sdk import AdminClient, Client, MessageEvent

SERVER = os.environ.get("PARLEY_URL", "http://127.0.0.1:8700")
WS = SERVER.replace("http", "ws", 1) + "/ws"


async def main() -> None:
    # Your back-end issues tokens (here through the admin API with the app's key).
    async with AdminClient(SERVER, os.environ["PARLEY_API_KEY"]) as admin:
        alice_token = (await admin.create_token("alice")).token
        bob_token = (await admin.create_token("bob")).token

    async with Client(WS, token=alice_token) as alice, Client(WS, token=bob_token) as bob:
        conv = await alice.create_direct("bob")
        inbox = bob.events(MessageEvent)
        sent = await alice.send(conv.conv, text="Hello Bob!")
        event = await anext(inbox)
        print(f"bob got #{event.message.seq} from {event.message.sender}: {event.message.body['text']}")
        assert event.message.mid == sent.mid


asyncio.run(main())
