import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay, setImmediate as nextTurn } from "node:timers/promises";
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

/**
 * Runs a child that writes `lines` numbered log lines through the destination, 100 per turn,
 * while the test does not read its stdout for a second; returns everything it wrote. The
 * child opens process.stdout first, as the server does: libuv then makes fd 1 a non-blocking
 * pipe, so a full pipe answers writes with EAGAIN instead of waiting.
 */
async function outputOfStalledChild(lines: number, options = "{}"): Promise<string> {
  const script = [
    `import { TurnBatchedDestination } from ${JSON.stringify(join(import.meta.dirname, "..", "src", "log-destination.ts"))};`,
    "process.stdout;",
    `const destination = new TurnBatchedDestination(1, ${options});`,
    "let next = 0;",
    `const burst = () => { for (let k = 0; k < 100; k++, next++) destination.write(JSON.stringify({ n: next, pad: "x".repeat(150) }) + "\\n");`,
    `  if (next < ${lines}) setImmediate(burst); else setTimeout(() => process.exit(0), 50); };`,
    "burst();",
  ].join("\n");
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => (output += text));
  // Nothing is read for a second: the pipe (64 KiB) fills long before the child is done.
  child.stdout.pause();
  const closed = once(child, "close");
  await delay(1000);
  child.stdout.resume();
  const [code] = await closed;
  assert.equal(code, 0);
  return output;
}

const recordsOf = (output: string) => output.split("\n").filter(Boolean).map((line) => JSON.parse(line) as { n?: number; msg?: string });

test("a stdout pipe that is not read for a while loses no line and cuts none", async () => {
  const received = recordsOf(await outputOfStalledChild(6000));
  assert.equal(received.length, 6000);
  received.forEach((record, index) => assert.equal(record.n, index));
});

test("past its backlog limit the log drops lines whole and says how many", async () => {
  const received = recordsOf(await outputOfStalledChild(6000, "{ maxBacklogBytes: 64 * 1024 }"));
  // A reader that falls behind again while it catches up makes a second episode, with its own notice.
  const notices = received.filter((record) => record.msg !== undefined);
  assert.ok(notices.length >= 1, "at least one notice");
  const dropped = notices
    .map((notice) => Number(/^(\d+) log lines dropped: stdout was not being read$/.exec(notice.msg!)?.[1]))
    .reduce((sum, count) => sum + count, 0);
  const kept = received.filter((record) => record.n !== undefined).map((record) => record.n!);
  assert.ok(dropped > 0);
  assert.equal(kept.length + dropped, 6000);
  kept.forEach((n, index) => index > 0 && assert.ok(n > kept[index - 1]!, "in order"));
});
