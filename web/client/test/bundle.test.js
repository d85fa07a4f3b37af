// The bundle that ships in the Python package (server/console/static/parley-client.js,
// built by scripts/build_web) is the client: same exports, same bytes for the shared
// vectors. And web/THIRD_PARTY.md names every npm package of the lock file at its
// locked version and licence. (That the bundle is up to date with the sources is
// `scripts/build_web --check`, which scripts/test runs.)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as bundle from "../../../server/console/static/parley-client.js";
import * as source from "../src/index.js";

const load = (/** @type {string} */ path) => readFileSync(new URL(path, import.meta.url), "utf8");

test("the bundle exports what src/index.js exports", () => {
  assert.deepEqual(Object.keys(bundle).sort(), Object.keys(source).sort());
});

test("the bundle encodes and decodes the shared vectors like the sources", () => {
  for (const file of ["client.json", "server.json"]) {
    for (const c of JSON.parse(load(`../../../proto/vectors/${file}`))) {
      assert.equal(Buffer.from(bundle.encodeFrame(c.frame)).toString("hex"), c.hex, c.name);
    }
  }
  const welcome = JSON.parse(load("../../../proto/vectors/server.json")).find((/** @type {any} */ c) => c.frame.t === "welcome");
  assert.deepEqual(bundle.decodeFrame(Buffer.from(welcome.hex, "hex")), source.decodeFrame(Buffer.from(welcome.hex, "hex")));
  assert.throws(() => bundle.decodeFrame(Uint8Array.from([0x81, 0xa1, 0x74, 0xa2, 0xff, 0xfe])), { code: "bad_frame" }); // the strict UTF-8 check survives bundling
});

test("web/THIRD_PARTY.md records every locked package with its version and licence", () => {
  const lock = JSON.parse(load("../package-lock.json"));
  const table = load("../../THIRD_PARTY.md");
  for (const [path, info] of Object.entries(lock.packages)) {
    if (!path || info.optional) continue; // the root; esbuild's platform binaries (covered by its row)
    const name = path.replace(/^.*node_modules\//, "");
    const row = table.split("\n").find((line) => line.startsWith(`| \`${name}\``));
    assert.ok(row, `${name} is missing from web/THIRD_PARTY.md`);
    assert.ok(row.includes(`| ${info.version} |`), `${name}: version ${info.version}`);
    assert.ok(row.includes(`| ${info.license} |`), `${name}: licence ${info.license}`);
  }
});
