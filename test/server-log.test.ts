// Issue 7: structured logs that help an operator and never show a secret.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type TestServer, serverBin, startTestServer } from "./helpers/server.js";
import { waitFor } from "./helpers/wait.js";

const SECRET_PARAM = "p4ssw0rd-in-a-param";
const WRONG_TOKEN = "wrong-token-that-must-not-be-logged";

async function exercise(server: TestServer): Promise<string> {
  await fetch(`${server.url}/health`);
  await fetch(`${server.url}/v1/status`, { headers: { Authorization: `Bearer ${WRONG_TOKEN}` } });
  const started = await fetch(`${server.url}/v1/tasks/hello/runs`, {
    method: "POST",
    headers: { ...server.auth, "Content-Type": "application/json" },
    body: JSON.stringify({ params: [SECRET_PARAM] }),
  });
  const { run } = (await started.json()) as { run: { id: string } };
  await waitFor(() => server.output().includes('"run finished"'));
  // A clumsy user pastes the token where the run id goes: refused, and not logged either.
  await fetch(`${server.url}/v1/runs/${server.token}/log`, { headers: server.auth });
  await fetch(`${server.url}/v1/runs/${server.token}/cancel`, { method: "POST", headers: server.auth });
  await fetch(`${server.url}/v1/runs/${run.id}`, { headers: server.auth });
  // Log lines are written at the end of the event loop's turn, so just after the response.
  await waitFor(() => server.output().includes('"route":"/v1/runs/:id"'));
  return run.id;
}

const records = (output: string) =>
  output
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

test("one JSON line per request and per run start and end, without the token, the Authorization header or params", async () => {
  const server = await startTestServer({ tasks: { hello: 'echo "hi $1"' } });
  try {
    const runId = await exercise(server);
    const log = records(server.output());
    const requests = log.filter((r) => r.msg === "request");
    const find = (route: string, status: number) => requests.find((r) => r.route === route && r.status === status);
    assert.ok(find("/health", 200));
    assert.ok(find("/v1/*", 401) ?? find("/v1/status", 401), JSON.stringify(requests));
    const start = find("/v1/tasks/:task/runs", 202)!;
    assert.equal(start.method, "POST");
    assert.equal(start.runId, runId);
    assert.equal(typeof start.durationMs, "number");
    assert.equal(find("/v1/runs/:id", 200)!.runId, runId);
    assert.ok(log.find((r) => r.msg === "run started" && r.runId === runId && r.task === "hello" && !("params" in r)));
    assert.ok(log.find((r) => r.msg === "run finished" && r.runId === runId && r.status === "succeeded" && r.exitCode === 0));
    for (const secret of [server.token, WRONG_TOKEN, SECRET_PARAM, "Bearer", "authorization"]) {
      assert.ok(!server.output().toLowerCase().includes(secret.toLowerCase()), `the log shows ${secret}`);
    }
  } finally {
    await server.stop();
  }
});

test("--log-params puts parameters in the run's start line; --log-level warn drops request lines", async () => {
  const verbose = await startTestServer({ tasks: { hello: 'echo "hi $1"' }, args: ["--log-params"] });
  try {
    await exercise(verbose);
    const start = records(verbose.output()).find((r) => r.msg === "run started")!;
    assert.deepEqual(start.params, [SECRET_PARAM]);
  } finally {
    await verbose.stop();
  }
  const quiet = await startTestServer({ tasks: { hello: 'echo "hi $1"' }, args: ["--log-level", "warn"] });
  try {
    await fetch(`${quiet.url}/health`);
    await fetch(`${quiet.url}/v1/status`, { headers: quiet.auth });
    assert.equal(records(quiet.output()).filter((r) => r.msg === "request").length, 0);
  } finally {
    await quiet.stop();
  }
});

test("on a terminal the log is readable lines, not JSON", async () => {
  const root = mkdtempSync(join(tmpdir(), "sdci-tty-"));
  mkdirSync(join(root, "tasks"));
  const command = `${process.execPath} ${serverBin} serve --port 0 --tasks-dir ${root}/tasks --data-dir ${root}/data --uploads-dir ${root}/up`;
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    env: { ...process.env, SDCI_SERVER_TOKEN: "a-token-for-the-tty-test" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  try {
    assert.ok(await waitFor(() => /listening on/.test(output), 10_000), output);
    assert.match(output, /INFO/);
    assert.doesNotMatch(output, /\{"level"/);
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
    rmSync(root, { recursive: true, force: true });
  }
});
