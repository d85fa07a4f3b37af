// A safety net for CI: once a test file's own after hooks ran, its process should end by
// itself. If a handle that nobody closed still holds it (a bug, which session.test.js looks
// for), end it 30 s later rather than hang the run; the results are reported by then.
// (The runner's --test-force-exit is no substitute: with node 20 it drops results.)
import { after } from "node:test";

after(() => {
  setTimeout(() => process.exit(process.exitCode ?? 0), 30_000).unref();
});
