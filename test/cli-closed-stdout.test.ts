// `sdci-cli run URL slow | head -n 1`: once the reader of stdout has gone, the CLI stops
// quietly with 141 (as a program that SIGPIPE killed), never with an EPIPE stack trace, and
// a run it was following goes on on the server as after a detach.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { getJson, postRun, waitForRun } from "./helpers/http.js";
import { type CliResult, type TestServer, cliBin, startCli, startTestServer } from "./helpers/server.js";

const CLOSED_STDOUT_EXIT_CODE = 141;

function assertQuietExit(result: CliResult): void {
  assert.equal(result.stderr, "", "nothing on stderr, above all no stack trace");
  assert.equal(result.code, CLOSED_STDOUT_EXIT_CODE);
}

describe("sdci-cli with its stdout closed by the reader", () => {
  let server: TestServer;
  let env: NodeJS.ProcessEnv;
  let finishedRun: string;

  before(async () => {
    server = await startTestServer({
      tasks: {
        ticker: 'for i in $(seq 1 30); do echo "line $i"; sleep 0.1; done',
        flood: "seq 1 200000",
        mixed: 'echo out; echo err >&2; exit 3',
      },
    });
    env = { SDCI_TOKEN: server.token };
    const { run } = (await (await postRun(server, "flood")).json()) as { run: { id: string } };
    finishedRun = run.id;
    assert.equal((await waitForRun(server, finishedRun)).status, "succeeded");
  });
  after(() => server.stop());

  test("run: closed after the first line, it exits 141 and the run goes on to its end", async () => {
    const cli = startCli(["run", server.url, "ticker"], env);
    await cli.stdoutMatches(/line 1\n/);
    cli.child.stdout!.destroy();
    assertQuietExit(await cli.result);
    const [latest] = (await getJson(server, "/v1/runs?task=ticker&limit=1")).runs;
    assert.equal(latest.status, "running", "the run was stopped with the CLI");
    assert.equal((await waitForRun(server, latest.id)).status, "succeeded");
  });

  test("logs --follow: closed after the first line, it exits 141", async () => {
    const { id } = ((await (await postRun(server, "ticker")).json()) as { run: { id: string } }).run;
    const cli = startCli(["logs", "--follow", server.url, id], env);
    await cli.stdoutMatches(/line 1\n/);
    cli.child.stdout!.destroy();
    assertQuietExit(await cli.result);
    assert.equal((await waitForRun(server, id)).status, "succeeded");
  });

  for (const args of [["logs", "::url", "::run"], ["runs", "::url"], ["tasks", "::url"], ["status", "::url"]]) {
    test(`${args[0]}: closed before its first write, it exits 141`, async () => {
      const argv = args.map((arg) => (arg === "::url" ? server.url : arg === "::run" ? finishedRun : arg));
      const cli = startCli(argv, env);
      cli.child.stdout!.destroy();
      assertQuietExit(await cli.result);
    });
  }

  // A full disk under the log that stderr goes to must not abort a deploy: progress and
  // messages are lost, the work is not, and the exit code still tells the truth.
  for (const [name, args, expected] of [
    ["upload-asset", ["upload-asset", "::url", "::file", "unheard"], 0],
    ["run", ["run", "::url", "mixed"], 3],
  ] as const) {
    test(`${name} with stderr on a full device (/dev/full) finishes its work and exits ${expected}`, async () => {
      const file = join(server.root, "unheard.bin");
      writeFileSync(file, "bytes sent while stderr fails");
      const argv = args.map((arg) => (arg === "::url" ? server.url : arg === "::file" ? file : arg));
      const full = openSync("/dev/full", "w");
      try {
        const child = spawn(process.execPath, [cliBin, ...argv], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", full] });
        let stdout = "";
        child.stdout!.on("data", (chunk) => (stdout += chunk));
        const [code] = (await once(child, "exit")) as [number];
        assert.equal(code, expected, stdout);
        if (name === "upload-asset") {
          assert.equal(readFileSync(join(server.uploadsDir, "unheard", "unheard.bin"), "utf8"), "bytes sent while stderr fails");
        } else {
          assert.equal(stdout, "out\n");
        }
      } finally {
        closeSync(full);
      }
    });
  }
});
