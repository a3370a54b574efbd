import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { getJson, postRun, waitForRun } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";
import { outputOf, readSse } from "./helpers/sse.js";

/** Live (not zombie) processes whose process group is `pgid`, from /proc. */
function liveMembersOfGroup(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command name (which may hold spaces): state ppid pgrp ...
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") members.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return members;
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] !== "Z";
  } catch {
    return false;
  }
}

// Criterion 9: a client that leaves does not take the run with it.
test("a client that disconnects mid-run does not stop it: it succeeds with all its output on record", async () => {
  const server = await startTestServer({
    // Goes on once the test creates the file named by $1, so the client is surely gone mid-run.
    tasks: {
      steps: 'echo "first"; while [ ! -e "$1" ]; do sleep 0.05; done; echo "second"; echo "to stderr" >&2; sleep 0.2; echo "third"',
    },
  });
  try {
    const releaseFile = join(server.root, "release");
    const controller = new AbortController();
    const response = await postRun(server, "steps", [releaseFile], { sse: true, signal: controller.signal });
    const seen = await readSse(response, (event) => event.event === "output");
    controller.abort();
    assert.deepEqual(seen.map((e) => e.event), ["run", "output"]);
    const id = seen[0]!.data.id;
    assert.equal((await getJson(server, `/v1/runs/${id}`)).status, "running");
    writeFileSync(releaseFile, "");

    const run = await waitForRun(server, id);
    assert.equal(run.status, "succeeded");
    assert.equal(run.exitCode, 0);
    const events = await readSse(await fetch(`${server.url}/v1/runs/${id}/events`, { headers: server.auth }));
    assert.equal(outputOf(events, "stdout"), "first\nsecond\nthird\n");
    assert.equal(outputOf(events, "stderr"), "to stderr\n");
    assert.deepEqual(events.map((e) => e.id), events.map((_, i) => i + 1));
    assert.equal(events.filter((e) => e.event === "exit").length, 1);
    assert.equal(events.at(-1)?.data.status, "succeeded");
  } finally {
    await server.stop();
  }
});

// Criterion 9: a timeout kills the whole process group, stubborn children included.
test("a timed-out task has its whole process group killed, children that ignore or trap SIGTERM included", async () => {
  const scratch = mkdtempSync(join(tmpdir(), "sdci-pids-"));
  const pidsFile = join(scratch, "pids");
  const task = [
    'pids="$1"',
    'echo "$$" > "$pids"',
    'sleep 300 & echo "$!" >> "$pids"',
    'sleep 300 & echo "$!" >> "$pids"',
    // Ignores SIGTERM (and so does the sleep it starts): only SIGKILL ends it.
    "bash -c 'trap \"\" TERM; echo \"$$\" >> \"$0\"; sleep 300' \"$pids\" &",
    // Traps SIGTERM and carries on, as a cleanup handler that never finishes would.
    "bash -c 'trap \"echo trapped TERM\" TERM; echo \"$$\" >> \"$0\"; while :; do sleep 0.1; done' \"$pids\" &",
    "sleep 0.3",
    'echo "children started"',
    "wait",
  ].join("\n");
  const server = await startTestServer({
    tasks: { stubborn: task },
    args: ["--task-timeout", "1", "--kill-grace", "1"],
  });
  try {
    const started = performance.now();
    const events = await readSse(await postRun(server, "stubborn", [pidsFile], { sse: true }));
    const elapsed = performance.now() - started;
    const exit = events.at(-1)!;
    assert.equal(exit.event, "exit");
    assert.equal(exit.data.status, "timed_out");
    assert.match(outputOf(events, "stdout"), /children started/);
    assert.ok(elapsed < 8000, `the timed-out run took ${Math.round(elapsed)} ms to end`);
    const record = await getJson(server, `/v1/runs/${events[0]!.data.id}`);
    assert.equal(record.status, "timed_out");

    const [pgid, ...children] = readFileSync(pidsFile, "utf8").trim().split("\n").map(Number);
    assert.ok(pgid && children.length === 4, `expected the group leader and 4 children, got ${readFileSync(pidsFile, "utf8")}`);
    // Reaping by init can lag a moment behind the kill.
    const deadline = Date.now() + 2000;
    while (liveMembersOfGroup(pgid).length > 0 && Date.now() < deadline) await sleep(50);
    assert.deepEqual(liveMembersOfGroup(pgid), [], `processes of group ${pgid} are still running`);
    assert.deepEqual(children.filter(isAlive), [], "a child of the task is still running");
    assert.equal((await getJson(server, "/v1/status")).busy, null);
  } finally {
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
});
