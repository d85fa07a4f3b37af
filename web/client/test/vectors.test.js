// The shared protocol vectors (proto/vectors/*.json), byte for byte: every frame
// decodes from its hex to the frame (defaults filled in) and encodes back to the
// same hex, so the Python core and this client cannot drift; every invalid case
// meant for a client decoder is refused with its code.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { decodeClientFrame, decodeFrame, encodeFrame, FrameError } from "../src/codec.js";
import { CLIENT_FRAMES, RECORDS, SERVER_FRAMES } from "../src/schema.js";

const VECTORS = new URL("../../../proto/vectors/", import.meta.url);
/** @param {string} name */
const load = (name) => JSON.parse(readFileSync(new URL(name, VECTORS), "utf8"));
/** @param {string} hex */
const bytes = (hex) => Uint8Array.from(Buffer.from(hex, "hex"));
/** @param {Uint8Array} b */
const hex = (b) => Buffer.from(b).toString("hex");

/**
 * The frame with every absent field set to its default, recursively (what a decoder yields).
 * @param {any} value
 * @param {any} table
 */
function filled(value, table) {
  const out = "t" in value ? { t: value.t } : {};
  for (const [name, type, , dflt] of table) out[name] = name in value ? fill(value[name], type) : structuredClone(dflt);
  return out;
}
/** @param {any} v @param {any} type */
function fill(v, type) {
  if (!Array.isArray(type) || v === null) return v;
  if (type[0] === "list") return v.map((/** @type {any} */ x) => fill(x, type[1]));
  if (type[0] === "opt" || type[0] === "bound") return fill(v, type[1]);
  return filled(v, RECORDS[type[1]]);
}

for (const [file, tables, decode] of /** @type {const} */ ([
  ["client.json", CLIENT_FRAMES, decodeClientFrame],
  ["server.json", SERVER_FRAMES, decodeFrame],
])) {
  const cases = load(file);
  test(`${file}: every frame type of the schema has a vector`, () => {
    const covered = new Set(cases.map((/** @type {any} */ c) => c.frame.t));
    assert.deepEqual(Object.keys(tables).filter((t) => !covered.has(t)), []);
  });
  for (const c of cases) {
    test(`${file}: ${c.name} encodes to its bytes`, () => {
      assert.equal(hex(encodeFrame(c.frame)), c.hex);
    });
    test(`${file}: ${c.name} decodes to its frame`, () => {
      assert.deepEqual(decode(bytes(c.hex), 1 << 24), filled(c.frame, tables[c.frame.t]));
    });
    test(`${file}: ${c.name} re-encodes from its decoded form`, () => {
      assert.equal(hex(encodeFrame(/** @type {any} */ (decode(bytes(c.hex), 1 << 24)))), c.hex);
    });
  }
}

for (const c of load("invalid.json")) {
  // side "client": a client decodes it (server frames); side "server": the server does
  const decode = c.side === "client" ? decodeFrame : decodeClientFrame;
  test(`invalid.json (${c.side} side): ${c.name} is refused with ${c.code}`, () => {
    assert.throws(
      () => decode(bytes(c.hex), c.max_frame ?? 64 * 1024),
      (/** @type {any} */ exc) => exc instanceof FrameError && exc.code === c.code,
    );
  });
}
