import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { postRun } from "./helpers/http.js";
import { type TestServer, runCli, startTestServer } from "./helpers/server.js";
import { outputOf, readSse } from "./helpers/sse.js";

// The script prints its argument count, then every argument NUL-terminated: byte-exact and
// unambiguous whatever the argument holds.
const ARGV_TASK = "printf '%s\\n' \"$#\"; for arg in \"$@\"; do printf '%s\\0' \"$arg\"; done";

const AWKWARD_PARAMS = [
  "two words",
  "it's \"quoted\"",
  "$HOME",
  "${PATH}",
  "$(id)",
  "`id`",
  ";ls",
  "&& echo pwned",
  "| cat /etc/passwd",
  "*",
  "-x",
  "--token",
  "not-the-token",
  "--help",
  "-h",
  "--",
  "",
  " leading and trailing ",
  "tab\there",
  "new\nline",
  "back\\slash",
  "naïve café 日本語 😀",
];

const argvOutput = (params: string[]) => `${params.length}\n${params.map((param) => `${param}\0`).join("")}`;

describe("a run's parameters", () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ tasks: { argv: ARGV_TASK } });
  });
  after(async () => {
    await server.stop();
  });

  // Criterion 4: parameters are argv through the CLI, even ones that look like its options.
  test("awkward parameters reach the script unchanged as $1..$n through the CLI", async () => {
    const result = await runCli(["run", server.url, "argv", ...AWKWARD_PARAMS], { SDCI_TOKEN: server.token });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, argvOutput(AWKWARD_PARAMS));
  });

  // Criterion 4: a leading `--token` after the task is the task's, not the CLI's.
  test("--token after the task is a parameter of the task, not the CLI's token", async () => {
    const result = await runCli(["run", server.url, "argv", "--token", "wrong"], { SDCI_TOKEN: server.token });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, argvOutput(["--token", "wrong"]));
  });

  // Criterion 4: the same through the raw API, and the run record keeps them as sent.
  test("awkward parameters reach the script unchanged as $1..$n through the raw API", async () => {
    const events = await readSse(await postRun(server, "argv", AWKWARD_PARAMS, { sse: true }));
    assert.deepEqual(events[0]?.data.params, AWKWARD_PARAMS);
    assert.equal(outputOf(events, "stdout"), argvOutput(AWKWARD_PARAMS));
    assert.equal(events.at(-1)?.data.status, "succeeded");
  });

  test("a run without a body gets no parameters", async () => {
    const events = await readSse(await postRun(server, "argv", undefined, { sse: true }));
    assert.equal(outputOf(events, "stdout"), argvOutput([]));
  });

  // What `curl -X POST -H 'Content-Type: application/json' URL` sends: the type, no body.
  test("a run with a JSON Content-Type and an empty body gets no parameters", async () => {
    const response = await fetch(`${server.url}/v1/tasks/argv/runs`, {
      method: "POST",
      headers: { ...server.auth, "Content-Type": "application/json", Accept: "text/event-stream" },
    });
    assert.equal(response.status, 200, await response.clone().text());
    const events = await readSse(response);
    assert.equal(outputOf(events, "stdout"), argvOutput([]));
  });
});
