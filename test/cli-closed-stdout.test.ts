// `sdci-cli run URL slow | head -n 1`: once the reader of stdout has gone, the CLI stops
// quietly with 141 (as a program that SIGPIPE killed), never with an EPIPE stack trace, and
// a run it was following goes on on the server as after a detach.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { getJson, postRun, waitForRun } from "./helpers/http.js";
import { type CliResult, type TestServer, startCli, startTestServer } from "./helpers/server.js";

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
});
