// Issue 3: runs outlive their connection. Readers replay, join late, resume, and all agree.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type SseEvent, outputOf, readSse } from "./helpers/sse.js";
import { type TestServer, runCli, startTestServer } from "./helpers/server.js";
import { waitFor } from "./helpers/wait.js";

const COUNTER = `for i in $(seq 1 \${1:-30}); do echo "line $i"; echo "err $i" >&2; sleep 0.02; done; exit \${2:-0}`;

async function startRun(server: TestServer, task: string, params: string[] = []): Promise<string> {
  const response = await fetch(`${server.url}/v1/tasks/${task}/runs`, {
    method: "POST",
    headers: { ...server.auth, "Content-Type": "application/json" },
    body: JSON.stringify({ params }),
  });
  assert.equal(response.status, 202, await response.clone().text());
  return ((await response.json()) as { run: { id: string } }).run.id;
}

function events(server: TestServer, id: string, lastEventId?: number): Promise<Response> {
  const headers: Record<string, string> = { ...server.auth, Accept: "text/event-stream" };
  if (lastEventId !== undefined) headers["Last-Event-ID"] = String(lastEventId);
  return fetch(`${server.url}/v1/runs/${id}/events`, { headers });
}

const summary = (list: SseEvent[]) => list.map((e) => `${e.id}:${e.event}:${JSON.stringify(e.data)}`);

async function runFinished(server: TestServer, id: string) {
  return waitFor(async () => {
    const run = (await (await fetch(`${server.url}/v1/runs/${id}`, { headers: server.auth })).json()) as { status: string };
    return run.status !== "running" ? run : undefined;
  });
}

describe("run history and resumable streams", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ tasks: { counter: COUNTER, quick: 'echo "quick $1"' } });
  });
  after(() => server.stop());

  test("a reader from the start, one that joins midway, and one that resumes after 10 events see the same events (AC1)", async () => {
    const id = await startRun(server, "counter", ["40"]);
    const [a, b, c] = await Promise.all([
      events(server, id).then((r) => readSse(r)),
      (async () => {
        await new Promise((r) => setTimeout(r, 400));
        return readSse(await events(server, id));
      })(),
      (async () => {
        const first = await readSse(await events(server, id), (_e, all) => all.length >= 10);
        assert.equal(first.length, 10);
        const rest = await readSse(await events(server, id, first.at(-1)!.id));
        return [...first, ...rest];
      })(),
    ]);
    assert.equal(a.at(-1)!.event, "exit");
    assert.deepEqual(a.map((e) => e.id), Array.from({ length: a.length }, (_, i) => i + 1));
    assert.deepEqual(summary(b), summary(a));
    assert.deepEqual(summary(c), summary(a));
    assert.equal(outputOf(a, "stdout"), Array.from({ length: 40 }, (_, i) => `line ${i + 1}\n`).join(""));
  });

  test("100 readers of one run each get every event (AC2)", async () => {
    const id = await startRun(server, "counter", ["20"]);
    const all = await Promise.all(Array.from({ length: 100 }, async () => readSse(await events(server, id))));
    const expected = summary(all[0]!);
    assert.equal(all[0]!.at(-1)!.event, "exit");
    for (const reader of all) assert.deepEqual(summary(reader), expected);
  });

  test("a finished run replays in full, and a reconnect with its last id gets 204 (AC4)", async () => {
    const id = await startRun(server, "counter", ["5", "3"]);
    await runFinished(server, id);
    const replay = await readSse(await events(server, id));
    assert.equal(outputOf(replay, "stdout"), "line 1\nline 2\nline 3\nline 4\nline 5\n");
    assert.equal(outputOf(replay, "stderr"), "err 1\nerr 2\nerr 3\nerr 4\nerr 5\n");
    assert.deepEqual(replay.at(-1)!.data, { ...replay.at(-1)!.data, status: "failed", exitCode: 3 });
    const tail = await readSse(await events(server, id, replay.length - 2));
    assert.deepEqual(tail.map((e) => e.event), ["output", "exit"].slice(-tail.length));
    const done = await events(server, id, replay.at(-1)!.id);
    assert.equal(done.status, 204);
    const bad = await events(server, id, "x" as unknown as number);
    assert.equal(bad.status, 400);
  });

  test("GET /v1/runs lists newest first, filters by task, and /log gives the plain text", async () => {
    const first = await startRun(server, "quick", ["one"]);
    await runFinished(server, first);
    const second = await startRun(server, "counter", ["2"]);
    await runFinished(server, second);
    const list = (await (await fetch(`${server.url}/v1/runs?limit=2`, { headers: server.auth })).json()) as {
      runs: { id: string }[];
    };
    assert.deepEqual(list.runs.map((r) => r.id), [second, first]);
    const quick = (await (await fetch(`${server.url}/v1/runs?task=quick`, { headers: server.auth })).json()) as {
      runs: { id: string; task: string }[];
    };
    assert.ok(quick.runs.every((r) => r.task === "quick") && quick.runs.some((r) => r.id === first));
    const log = await fetch(`${server.url}/v1/runs/${second}/log`, { headers: server.auth });
    assert.match(log.headers.get("content-type")!, /^text\/plain/);
    const text = await log.text();
    assert.deepEqual(text.split("\n").filter(Boolean).sort(), ["err 1", "err 2", "line 1", "line 2"]);
    for (const query of ["limit=0", "limit=abc", "task=..", "limit=1001", "limit=1e2", "limit=0x10", "limit=%20%205", "limit="]) {
      const response = await fetch(`${server.url}/v1/runs?${query}`, { headers: server.auth });
      assert.equal(response.status, 400, query);
      assert.match(response.headers.get("content-type")!, /problem\+json/);
    }
  });

  test("logs --follow on a live run prints it from the start and exits with its code", async () => {
    const id = await startRun(server, "counter", ["15", "4"]);
    const result = await runCli(["logs", "--follow", server.url, id], { SDCI_TOKEN: server.token });
    assert.equal(result.code, 4);
    assert.equal(result.stdout, Array.from({ length: 15 }, (_, i) => `line ${i + 1}\n`).join(""));
    const last = `sdci-cli: run ${id} failed (exit code 4)\n`;
    assert.equal(result.stderr, Array.from({ length: 15 }, (_, i) => `err ${i + 1}\n`).join("") + last);
  });

  test("logs --follow of a run the server ends says why on its last line, as run does", async () => {
    const id = await startRun(server, "counter", ["500"]);
    const follower = runCli(["logs", "--follow", server.url, id], { SDCI_TOKEN: server.token });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await fetch(`${server.url}/v1/runs/${id}/cancel`, { method: "POST", headers: server.auth })).status, 202);
    const result = await follower;
    assert.equal(result.code, 128 + 15);
    assert.match(result.stderr, new RegExp(`\nsdci-cli: run ${id} cancelled \\(signal SIGTERM\\): [^\n]+\n$`));
  });

  test("the CLI lists tasks, runs and status, as tables and as JSON", async () => {
    const env = { SDCI_TOKEN: server.token };
    const tasks = await runCli(["tasks", "--json", server.url], env);
    assert.deepEqual(JSON.parse(tasks.stdout).tasks.map((t: { name: string }) => t.name), ["counter", "quick"]);
    assert.match((await runCli(["tasks", server.url], env)).stdout, /^TASK\s+DESCRIPTION\ncounter/);
    const id = await startRun(server, "quick", ["x"]);
    await runFinished(server, id);
    const runs = await runCli(["runs", "--json", "--limit", "1", server.url], env);
    assert.equal(JSON.parse(runs.stdout).runs[0].id, id);
    assert.match((await runCli(["runs", "--task", "quick", server.url], env)).stdout, new RegExp(`${id}\\s+quick\\s+succeeded\\s+0`));
    const status = await runCli(["status", "--json", server.url], env);
    assert.equal(JSON.parse(status.stdout).busy, null);
    const logs = await runCli(["logs", server.url, id], env);
    assert.equal(logs.stdout, "quick x\n");
    const missing = await runCli(["logs", server.url, "20200101T000000000Z-000000"], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^sdci-cli: run 20200101T000000000Z-000000 not found/);
  });
});

test("with --keep-runs 5, after 8 runs only the newest 5 remain on disk and in the list (AC10)", async () => {
  const server = await startTestServer({ tasks: { quick: "echo $1" }, args: ["--keep-runs", "5"] });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const id = await startRun(server, "quick", [String(i)]);
      await runFinished(server, id);
      ids.push(id);
    }
    const runsDir = join(server.dataDir, "runs");
    await waitFor(() => readdirSync(runsDir).length === 5);
    assert.deepEqual(readdirSync(runsDir).sort(), ids.slice(3));
    const list = (await (await fetch(`${server.url}/v1/runs?limit=100`, { headers: server.auth })).json()) as {
      runs: { id: string }[];
    };
    assert.deepEqual(list.runs.map((r) => r.id), ids.slice(3).reverse());
    assert.equal((await fetch(`${server.url}/v1/runs/${ids[0]}`, { headers: server.auth })).status, 404);
  } finally {
    await server.stop();
  }
});
