// Two users of a Parley app exchange a message (web/client/README.md shows this file verbatim).
// Needs PARLEY_URL (the server's /ws URL) and two tokens from your back-end: ALICE_TOKEN, BOB_TOKEN.
import { ParleyClient } from "@parley/client";

const url = process.env.PARLEY_URL ?? "ws://127.0.0.1:8700/ws";
const alice = new ParleyClient({ url, token: process.env.ALICE_TOKEN });
const bob = new ParleyClient({ url, token: process.env.BOB_TOKEN });
await Promise.all([alice.connect(), bob.connect()]);

const received = new Promise((resolve) => bob.on("message", resolve));
const { conv } = await alice.convCreate({ kind: "direct", members: ["bob"] });
const ack = await alice.send(conv.conv, { text: "Hello Bob!" });
const message = await received;
console.log(`bob got #${message.seq} from ${message.sender}: ${message.body.text}`);
console.assert(message.mid === ack.mid);

await Promise.all([alice.close(), bob.close()]);
