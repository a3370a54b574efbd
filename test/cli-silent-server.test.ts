// A server that takes the connection and then says nothing must not hold sdci-cli for
// minutes: each wait is bounded (SDCI_ANSWER_TIMEOUT, SDCI_IDLE_TIMEOUT) and ends in one
// readable line, while a live stream kept open by keepalive comments is never cut.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { writeSparseFile } from "./helpers/files.js";
import { type CliResult, startCli, startTestServer } from "./helpers/server.js";

/** Runs the CLI, killing it if it is still waiting after `ms` (the bug this file pins was a 301 s hang). */
async function runCliWithin(ms: number, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult & { seconds: number }> {
  const started = performance.now();
  const cli = startCli(args, env);
  const killer = setTimeout(() => cli.child.kill("SIGKILL"), ms);
  try {
    const result = await cli.result;
    return { ...result, seconds: (performance.now() - started) / 1000 };
  } finally {
    clearTimeout(killer);
  }
}

function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0] as string, pattern);
}

/** Counts the requests that (re)opened a run's event stream, from the server's request log. */
function eventStreamRequests(output: string): number {
  return output.split("\n").filter((line) => line.includes('"route":"/v1/runs/:id/events"')).length;
}

describe("a server that accepts connections but never answers", () => {
  let silent: net.Server;
  let url: string;
  let work: string;
  const sockets = new Set<net.Socket>();

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "sdci-silent-"));
    silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  });
  after(async () => {
    rmSync(work, { recursive: true, force: true });
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  for (const [command, ...rest] of [["status"], ["tasks"], ["run", "hello"]] as const) {
    test(`${command}: gives up after SDCI_ANSWER_TIMEOUT with one line`, async () => {
      const result = await runCliWithin(15_000, [command, url, ...rest], { SDCI_TOKEN: "t", SDCI_ANSWER_TIMEOUT: "1" });
      assert.equal(result.code, 1, result.stderr);
      // A run asked for may have started before the silence: run says so.
      const maybe = command === "run" ? `, so the run may have started or not \\(see: sdci-cli runs ${url}\\)` : "";
      assertOneLine(result.stderr, new RegExp(`^sdci-cli: ${url} accepted the connection but sent no answer within 1 s${maybe}$`));
      assert.ok(result.seconds < 8, `took ${result.seconds} s`);
    });
  }

  test("upload-asset: waits ten times SDCI_ANSWER_TIMEOUT after its last byte (the server's fsync), then one line", async () => {
    const file = join(work, "payload.txt");
    writeFileSync(file, "payload\n");
    const result = await runCliWithin(20_000, ["upload-asset", url, file, "r"], { SDCI_TOKEN: "t", SDCI_ANSWER_TIMEOUT: "0.5" });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`^sdci-cli: ${url} sent no answer within 5 s after the upload's last byte$`, "m"));
    assert.doesNotMatch(result.stderr, /^\s+at /m);
    assert.ok(result.seconds >= 5 && result.seconds < 12, `took ${result.seconds} s`);
  });

  test("upload-asset to a server that stops reading the body: gives up after SDCI_IDLE_TIMEOUT with one line", async () => {
    const stalling = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.once("data", () => {
        socket.write("HTTP/1.1 100 Continue\r\n\r\n");
        socket.pause();
      });
    });
    await new Promise<void>((resolve) => stalling.listen(0, "127.0.0.1", resolve));
    const stallingUrl = `http://127.0.0.1:${(stalling.address() as net.AddressInfo).port}`;
    try {
      // Far more than the socket buffers hold, so the CLI is still writing when the server stops.
      const file = join(work, "large.bin");
      writeSparseFile(file, 256 * 1024 * 1024);
      const result = await runCliWithin(20_000, ["upload-asset", stallingUrl, file, "r"], { SDCI_TOKEN: "t", SDCI_IDLE_TIMEOUT: "1" });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^sdci-cli: ${stallingUrl} stopped taking the upload \\(nothing moved for 1 s\\)$`, "m"));
      assert.doesNotMatch(result.stderr, /^\s+at /m);
      assert.ok(result.seconds < 10, `took ${result.seconds} s`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => stalling.close(resolve));
    }
  });

  test("a timeout that is not a number of seconds: one line naming the variable", async () => {
    const result = await runCliWithin(15_000, ["status", url], { SDCI_TOKEN: "t", SDCI_IDLE_TIMEOUT: "soon" });
    assert.equal(result.code, 1);
    assertOneLine(result.stderr, /^sdci-cli: SDCI_IDLE_TIMEOUT must be a number of seconds above 0 and at most 86400, not 'soon'$/);
  });
});

/**
 * Runs `script` as a task through sdci-cli on a server with `--keepalive keepalive`, the CLI
 * with SDCI_IDLE_TIMEOUT=idle; returns the CLI's result and how often it reopened the stream.
 */
async function runQuietTask(script: string, keepalive: string, idle: string) {
  const server = await startTestServer({ tasks: { pause: script }, args: ["--keepalive", keepalive] });
  try {
    const result = await runCliWithin(20_000, ["run", server.url, "pause"], { SDCI_TOKEN: server.token, SDCI_IDLE_TIMEOUT: idle });
    return { ...result, reconnects: eventStreamRequests(server.output()) };
  } finally {
    await server.stop();
  }
}

describe("a run's event stream that goes quiet", () => {
  test("without keepalives it counts as dropped after SDCI_IDLE_TIMEOUT: the CLI reconnects and prints every line once", async () => {
    const result = await runQuietTask("echo one; sleep 3; echo two; exit 3", "60", "1");
    assert.equal(result.stdout, "one\ntwo\n");
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /^sdci-cli: task 'pause' failed \(exit code 3\)\n$/);
    assert.ok(result.reconnects >= 1, "the CLI never reconnected");
  });

  test("with keepalives more often than SDCI_IDLE_TIMEOUT it is never cut", async () => {
    const result = await runQuietTask("echo one; sleep 4; echo two", "0.5", "2");
    assert.equal(result.stdout, "one\ntwo\n");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.reconnects, 0, "the CLI reconnected a live stream");
  });
});
