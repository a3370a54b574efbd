import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import { test } from "node:test";
import { TurnBatchedDestination } from "../src/log-destination.js";

test("the lines of one turn are written together at its end, in order", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sdci-log-"));
  const fd = openSync(join(dir, "log"), "w");
  try {
    const destination = new TurnBatchedDestination(fd);
    destination.write("one\n");
    destination.write("two\n");
    assert.equal(readFileSync(join(dir, "log"), "utf8"), "", "nothing is written before the turn ends");
    await nextTurn();
    assert.equal(readFileSync(join(dir, "log"), "utf8"), "one\ntwo\n");
    destination.write("three\n");
    await nextTurn();
    assert.equal(readFileSync(join(dir, "log"), "utf8"), "one\ntwo\nthree\n");
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("lines still pending when the process exits are written", () => {
  const script = [
    `import { TurnBatchedDestination } from ${JSON.stringify(join(import.meta.dirname, "..", "src", "log-destination.ts"))};`,
    "const destination = new TurnBatchedDestination(1);",
    "destination.write('first\\n'); destination.write('last\\n');",
    "process.exit(3);",
  ].join("\n");
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(child.status, 3, child.stderr);
  assert.equal(child.stdout, "first\nlast\n");
});
