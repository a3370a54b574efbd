import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { RunEventLog } from "../src/runner/run-event-log.js";

/** A log of a few MB, so that loading it crosses many read chunks at every kind of place. */
function writeLog(path: string): RunEventLog {
  const log = RunEventLog.create(path);
  log.append("run", { id: "r" });
  // The first output frame's closing blank line straddles the loader's 1 MiB read chunks.
  const frameBytes = (text: string) => Buffer.byteLength(`id: 2\nevent: output\ndata: ${JSON.stringify({ stream: "stdout", text })}\n\n`);
  const straddle = 1024 * 1024 + 1 - log.size - frameBytes("");
  log.append("output", { stream: "stdout", text: "y".repeat(straddle) });
  assert.equal(log.size, 1024 * 1024 + 1);
  for (let index = 0; index < 4000; index++) {
    const text = `${"line\n".repeat(index % 7)}${"x".repeat((index * 7919) % 1500)}\n`;
    log.append("output", { stream: index % 3 === 0 ? "stderr" : "stdout", text });
  }
  log.append("exit", { exitCode: 0 });
  log.finish();
  return log;
}

test("a loaded log indexes every frame where the writer put it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sdci-log-"));
  try {
    const path = join(dir, "events.sse");
    const written = writeLog(path);
    assert.ok(statSync(path).size > 3 * 1024 * 1024);
    const loaded = await RunEventLog.load(path);
    assert.equal(loaded.lastId, written.lastId);
    assert.equal(loaded.size, written.size);
    for (let id = 0; id <= written.lastId; id++) assert.equal(loaded.offsetAfter(id), written.offsetAfter(id), `event ${id}`);
    assert.ok(loaded.finished);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a log cut mid-frame by a crash is trimmed to its last whole frame and appended to", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sdci-log-"));
  try {
    const path = join(dir, "events.sse");
    const written = writeLog(path);
    appendFileSync(path, 'id: 4003\nevent: output\ndata: {"stream":"stdout","te');
    const reopened = await RunEventLog.load(path, { reopen: true });
    assert.equal(reopened.lastId, written.lastId);
    assert.equal(statSync(path).size, written.size);
    assert.equal(reopened.append("exit", { exitCode: null }), written.lastId + 1);
    reopened.finish();
    assert.equal((await RunEventLog.load(path)).lastId, written.lastId + 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
