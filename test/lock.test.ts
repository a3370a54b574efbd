import assert from "node:assert/strict";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { getJson, postRun, waitForRun } from "./helpers/http.js";
import { type TestServer, runCli, startTestServer } from "./helpers/server.js";
import { readSse } from "./helpers/sse.js";

const TASKS = {
  // Runs until the test creates the file named by $1, so no check races the run's end.
  hold: 'echo "started"; while [ ! -e "$1" ]; do sleep 0.05; done; echo "released"',
  quick: 'echo "done"',
};

describe("the one global lock", () => {
  let server: TestServer;
  let holds = 0;
  const runDirs = () => readdirSync(join(server.dataDir, "runs"));
  /** A fresh release file for one `hold` run, and the function that lets that run end. */
  const holdFile = () => {
    const path = join(server.root, `release-${++holds}`);
    return { path, release: () => writeFileSync(path, "") };
  };
  /** `count` starts sent at once: exactly one 202, the rest 429 problems; returns the run's end. */
  const startTogether = async (count: number) => {
    const before = runDirs().length;
    const hold = holdFile();
    const responses = await Promise.all(Array.from({ length: count }, () => postRun(server, "hold", [hold.path])));
    const statuses = responses.map((r) => r.status).join(", ");
    const accepted = responses.filter((r) => r.status === 202);
    const busy = responses.filter((r) => r.status === 429);
    assert.equal(accepted.length, 1, `statuses: ${statuses}`);
    assert.equal(busy.length, count - 1, `statuses: ${statuses}`);
    for (const response of busy) {
      assert.match(response.headers.get("retry-after") ?? "", /^\d+$/);
      assert.equal(response.headers.get("content-type"), "application/problem+json");
      const problem = await response.json();
      assert.equal(problem.status, 429);
      assert.equal(problem.type, "urn:sdci:problem:busy");
      assert.equal(typeof problem.title, "string");
    }
    assert.equal(runDirs().length, before + 1, "exactly one run was created");
    const { run } = await accepted[0]!.json();
    hold.release();
    return waitForRun(server, run.id);
  };
  const assertAccepted = async () => {
    const response = await postRun(server, "quick", []);
    assert.equal(response.status, 202, await response.clone().text());
    const { run } = await response.json();
    assert.equal((await waitForRun(server, run.id)).status, "succeeded");
  };

  before(async () => {
    server = await startTestServer({ tasks: TASKS });
  });
  after(async () => {
    await server.stop();
  });

  // Criterion 6: two starts at the same instant.
  test("of two starts sent at once, exactly one runs and the other gets 429 with Retry-After", async () => {
    const run = await startTogether(2);
    assert.equal(run.status, "succeeded");
  });

  // Criterion 6: ten starts at the same instant.
  test("of ten starts sent at once, exactly one runs and nine get 429", async () => {
    const run = await startTogether(10);
    assert.equal(run.status, "succeeded");
    await assertAccepted();
  });

  // Criterion 6: GET /v1/status names the holder; a refused start leaves the lock with it.
  test("GET /v1/status shows the run as busy while it runs and null afterwards; a start meanwhile is refused", async () => {
    const hold = holdFile();
    const { run } = await (await postRun(server, "hold", [hold.path])).json();
    assert.deepEqual((await getJson(server, "/v1/status")).busy, { kind: "run", id: run.id });
    const rejected = await postRun(server, "quick", []);
    assert.equal(rejected.status, 429);
    const cli = await runCli(["run", server.url, "quick"], { SDCI_TOKEN: server.token });
    assert.equal(cli.code, 1);
    assert.equal(cli.stdout, "");
    assert.match(cli.stderr, /^sdci-cli: .* is busy with another run or upload; try again in \d+ s\n$/);
    assert.deepEqual((await getJson(server, "/v1/status")).busy, { kind: "run", id: run.id }, "a 429 released the holder's lock");
    hold.release();
    await waitForRun(server, run.id);
    assert.equal((await getJson(server, "/v1/status")).busy, null);
  });

  // Criterion 6: released after a normal run, the moment the client has the exit event.
  test("the next run is accepted right after a run's exit event", async () => {
    const events = await readSse(await postRun(server, "quick", [], { sse: true }));
    assert.equal(events.at(-1)?.event, "exit");
    await assertAccepted();
  });

  // Criterion 6: released after a client that left mid-run.
  test("the lock is released when the run ends after its client disconnected mid-run", async () => {
    const hold = holdFile();
    const controller = new AbortController();
    const response = await postRun(server, "hold", [hold.path], { sse: true, signal: controller.signal });
    const events = await readSse(response, (event) => event.event === "output");
    controller.abort();
    const id = events[0]!.data.id;
    assert.equal((await getJson(server, "/v1/status")).busy?.id, id, "the run stopped with its client");
    hold.release();
    assert.equal((await waitForRun(server, id)).status, "succeeded");
    assert.equal((await getJson(server, "/v1/status")).busy, null);
    await assertAccepted();
  });

  // Criterion 6: released after a client that left before the first event.
  test("the lock is released when the run ends after its client disconnected before any event", async () => {
    const hold = holdFile();
    const controller = new AbortController();
    await postRun(server, "hold", [hold.path], { sse: true, signal: controller.signal });
    controller.abort();
    const busy = (await getJson(server, "/v1/status")).busy;
    assert.equal(busy?.kind, "run");
    hold.release();
    assert.equal((await waitForRun(server, busy.id)).status, "succeeded");
    await assertAccepted();
  });

  // Criterion 6: a rejected request never takes or keeps the lock.
  test("after a 404, a 400 or a 415 the next run is accepted", async () => {
    const url = `${server.url}/v1/tasks`;
    const headers = { ...server.auth, "Content-Type": "application/json" };
    const rejected = [
      await fetch(`${url}/nope/runs`, { method: "POST", headers, body: "{}" }),
      await fetch(`${url}/quick/runs`, { method: "POST", headers, body: '{"params":[1]}' }),
      await fetch(`${url}/quick/runs`, { method: "POST", headers, body: "{" }),
      await fetch(`${url}/quick/runs`, { method: "POST", headers: { ...server.auth, "Content-Type": "text/plain" }, body: "x" }),
    ];
    assert.deepEqual(rejected.map((r) => r.status), [404, 400, 400, 415]);
    assert.equal((await getJson(server, "/v1/status")).busy, null);
    await assertAccepted();
  });
});
