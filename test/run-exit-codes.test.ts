import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { getJson, postRun } from "./helpers/http.js";
import { type TestServer, runCli, startTestServer } from "./helpers/server.js";
import { readSse } from "./helpers/sse.js";

const TASKS = {
  "exit-with": 'echo "exiting with $1"; exit "$1"',
  // The script's own shell dies of the signal, as a deploy killed by the OOM killer would.
  "killed-by": 'echo "sending SIG$1 to myself"; kill -"$1" $$; sleep 5; echo "still alive"',
};

describe("a run's exit", () => {
  let server: TestServer;
  const cli = (...args: string[]) => runCli(["run", server.url, ...args], { SDCI_TOKEN: server.token });
  /** The exit event of a run started over the raw API, and the run's record. */
  const rawExit = async (task: string, params: string[]) => {
    const events = await readSse(await postRun(server, task, params, { sse: true }));
    const exits = events.filter((e) => e.event === "exit");
    assert.equal(exits.length, 1);
    assert.equal(events.at(-1)?.event, "exit");
    const record = await getJson(server, `/v1/runs/${events[0]!.data.id}`);
    return { exit: exits[0]!.data, record };
  };

  before(async () => {
    server = await startTestServer({ tasks: TASKS });
  });
  after(async () => {
    await server.stop();
  });

  // Criterion 3: the task's exit code is the CLI's and the exit event's.
  for (const code of [0, 1, 3, 255]) {
    test(`exit code ${code} comes back as the CLI's exit code and in the exit event`, async () => {
      const result = await cli("exit-with", String(code));
      assert.equal(result.code, code, result.stderr);
      assert.equal(result.stdout, `exiting with ${code}\n`);
      if (code === 0) assert.equal(result.stderr, "");
      else assert.equal(result.stderr, `sdci-cli: task 'exit-with' failed (exit code ${code})\n`);

      const { exit, record } = await rawExit("exit-with", [String(code)]);
      const status = code === 0 ? "succeeded" : "failed";
      assert.deepEqual({ ...exit, durationMs: 0 }, { status, exitCode: code, signal: null, durationMs: 0, reason: null });
      assert.equal(typeof exit.durationMs, "number");
      assert.equal(record.status, status);
      assert.equal(record.exitCode, code);
      assert.equal(record.signal, null);
    });
  }

  // Criterion 3: a task killed by a signal is reported with that signal, and the CLI exits 128+N.
  for (const [signal, number] of [["TERM", 15], ["KILL", 9]] as const) {
    test(`a task killed by SIG${signal} is reported with the signal and the CLI exits ${128 + number}`, async () => {
      const result = await cli("killed-by", signal);
      assert.equal(result.code, 128 + number, result.stderr);
      assert.equal(result.stdout, `sending SIG${signal} to myself\n`);
      assert.equal(result.stderr, `sdci-cli: task 'killed-by' failed (signal SIG${signal})\n`);

      const { exit, record } = await rawExit("killed-by", [signal]);
      assert.equal(exit.status, "failed");
      assert.equal(exit.signal, `SIG${signal}`);
      assert.equal(exit.exitCode, null);
      assert.equal(record.signal, `SIG${signal}`);
      assert.equal(record.status, "failed");
    });
  }
});
