// Issue 9: when the run's log refuses every write after the first event (a disk that fills
// for good), the runner still stops the task, ends the run as failed, frees the lock, and
// every reader ends. A real full disk rarely fails exactly there, so the log is made to.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { followRunLog } from "../src/api/sse.js";
import { OperationLock } from "../src/runner/operation-lock.js";
import { RunStore } from "../src/runner/run-store.js";
import { TaskCatalog } from "../src/runner/task-catalog.js";
import { TaskRunner } from "../src/runner/task-runner.js";

/** A store whose logs accept the `run` event and then fail every write with ENOSPC. */
class FullDiskStore extends RunStore {
  override create(task: string, params: string[]) {
    const created = super.create(task, params);
    const append = created.log.append.bind(created.log);
    created.log.append = (type, data) => {
      if (type !== "run") throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      return append(type, data);
    };
    return created;
  }
}

async function runnerIn(root: string, drainMs = 200) {
  const store = new FullDiskStore(join(root, "data"));
  await store.init();
  const lock = new OperationLock();
  const runner = new TaskRunner({
    store,
    lock,
    tasksDir: root,
    uploadsDir: root,
    secrets: [],
    taskTimeoutMs: 0,
    killGraceMs: 500,
    drainMs,
  });
  return { store, lock, runner, catalog: new TaskCatalog(root) };
}

test("output lost after the task exited on its own still fails the run: its exit code cannot vouch for lost lines", async () => {
  const root = mkdtempSync(join(tmpdir(), "sdci-full-"));
  try {
    // The leader exits at once; its background child writes while the runner drains the pipes.
    writeFileSync(join(root, "quick.sh"), "(sleep 0.3; echo late) & exit 0\n");
    const { runner, catalog, lock } = await runnerIn(root, 3000);
    const { done } = runner.start((await catalog.resolve("quick"))!, []);
    const finished = await done;
    assert.equal(finished.status, "failed");
    assert.match(finished.reason ?? "", /disk is full/);
    assert.equal(lock.holder, null);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a log that refuses output and the exit event: task stopped, run failed with a reason, readers end, lock free", async () => {
  const root = mkdtempSync(join(tmpdir(), "sdci-full-"));
  try {
    writeFileSync(join(root, "chatty.sh"), "echo one; sleep 60; echo two\n");
    const { store, lock, runner, catalog } = await runnerIn(root);
    const task = (await catalog.resolve("chatty"))!;
    const started = performance.now();
    const { record, log, done } = runner.start(task, []);
    const reader = new Response(followRunLog(log, 0, { keepaliveMs: 60_000 })).text();
    const finished = await done;
    assert.ok(performance.now() - started < 5000, "the task was not stopped");
    assert.equal(finished.status, "failed");
    assert.equal(finished.signal, "SIGTERM");
    assert.match(finished.reason ?? "", /^the server's disk is full: the run's output could not be stored/);
    assert.equal(lock.holder, null);
    const events = await reader;
    assert.match(events, /event: run/);
    assert.doesNotMatch(events, /event: (output|exit)/);
    assert.deepEqual(await store.get(record.id), finished);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
