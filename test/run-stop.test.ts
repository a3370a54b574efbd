// Issue 3: cancel, timeouts, crashes and shutdown stop whole process trees and tell readers.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { busyHolder } from "./helpers/http.js";
import { outputOf, readSse } from "./helpers/sse.js";
import { type TestServer, cliBin, runCli, startTestServer } from "./helpers/server.js";
import { type ControlledProxy, controlledProxy } from "./helpers/proxy.js";
import { alive, waitFor } from "./helpers/wait.js";

/** Writes its own pid and its two children's to $1, then waits on them. */
const TWO_SLEEPERS = 'sleep 300 & echo $! >> "$1"; sleep 300 & echo $! >> "$1"; echo $$ >> "$1"; echo ready; wait';
/** Ignores SIGTERM (and so do the children, which inherit the ignored signal). */
const DEAF_TO_TERM = `trap '' TERM; sleep 300 & echo $! >> "$1"; echo $$ >> "$1"; echo ready; while true; do sleep 0.2; done`;

function pidsIn(file: string): number[] {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number) : [];
}

async function startStreaming(server: TestServer, task: string, params: string[]) {
  const response = await fetch(`${server.url}/v1/tasks/${task}/runs`, {
    method: "POST",
    headers: { ...server.auth, "Content-Type": "application/json", Accept: "text/event-stream" },
    body: JSON.stringify({ params }),
  });
  assert.equal(response.status, 200);
  return response;
}

async function nextRunAccepted(server: TestServer) {
  const response = await fetch(`${server.url}/v1/tasks/quick/runs`, { method: "POST", headers: server.auth });
  assert.equal(response.status, 202);
  const { run } = (await response.json()) as { run: { id: string } };
  return run.id;
}

for (const [name, script] of [
  ["children that obey SIGTERM", TWO_SLEEPERS],
  ["a script and a child that ignore SIGTERM", DEAF_TO_TERM],
] as const) {
  test(`cancel stops ${name}: group gone within grace + 1 s, status cancelled, next run accepted (AC5)`, async () => {
    const server = await startTestServer({ tasks: { target: script, quick: "echo ok" } });
    const pidFile = join(server.root, "pids");
    try {
      const stream = await startStreaming(server, "target", [pidFile]);
      const seen = readSse(stream);
      const runId = await waitFor(async () => {
        const list = (await (await fetch(`${server.url}/v1/runs`, { headers: server.auth })).json()) as { runs: { id: string }[] };
        return pidsIn(pidFile).length >= 2 ? list.runs[0]?.id : undefined;
      });
      assert.ok(runId);
      const pids = pidsIn(pidFile);
      const cancelled = performance.now();
      const answer = await fetch(`${server.url}/v1/runs/${runId}/cancel`, { method: "POST", headers: server.auth });
      assert.equal(answer.status, 202);
      const gone = await waitFor(() => pids.every((pid) => !alive(pid)), 3000 + 1000);
      assert.ok(gone, `still alive after grace + 1 s: ${pids.filter(alive)}`);
      assert.ok(performance.now() - cancelled < 3000 + 1000);
      const events = await seen;
      assert.deepEqual(
        { event: events.at(-1)!.event, status: events.at(-1)!.data.status },
        { event: "exit", status: "cancelled" },
      );
      const again = await fetch(`${server.url}/v1/runs/${runId}/cancel`, { method: "POST", headers: server.auth });
      assert.equal(again.status, 409);
      await nextRunAccepted(server);
    } finally {
      await server.stop();
    }
  });
}

test("a timeout stops the whole group with status timed_out, and the lock is free again (AC6)", async () => {
  const server = await startTestServer({
    tasks: { target: DEAF_TO_TERM, quick: "echo ok" },
    args: ["--task-timeout", "1", "--kill-grace", "1"],
  });
  const pidFile = join(server.root, "pids");
  try {
    const events = await readSse(await startStreaming(server, "target", [pidFile]));
    assert.equal(events.at(-1)!.event, "exit");
    assert.equal(events.at(-1)!.data.status, "timed_out");
    assert.ok(events.at(-1)!.data.durationMs < 1000 + 1000 + 1000);
    const pids = pidsIn(pidFile);
    assert.equal(pids.length, 2);
    assert.ok(await waitFor(() => pids.every((pid) => !alive(pid)), 1000), "a process of the group outlived the timeout");
    await nextRunAccepted(server);
  } finally {
    await server.stop();
  }
});

test("a task that exits while a background child holds its output is reported succeeded within about a second (AC6)", async () => {
  const server = await startTestServer({ tasks: { target: '(sleep 30; echo late) & echo $! > "$1"; echo started; exit 0' } });
  const pidFile = join(server.root, "pids");
  try {
    const started = performance.now();
    const events = await readSse(await startStreaming(server, "target", [pidFile]));
    const elapsed = performance.now() - started;
    assert.equal(events.at(-1)!.data.status, "succeeded");
    assert.equal(outputOf(events, "stdout"), "started\n");
    assert.ok(elapsed < 2500, `took ${elapsed} ms`);
  } finally {
    for (const pid of pidsIn(pidFile)) if (alive(pid)) process.kill(pid, "SIGKILL");
    await server.stop();
  }
});

test("a cancel after the task has exited, while its run waits for a background child's output, gets 409: nothing is stopped", async () => {
  const server = await startTestServer({ tasks: { target: '(sleep 30; echo late) & echo $! > "$1"; echo leader-done; exit 0' } });
  const pidFile = join(server.root, "pids");
  try {
    const started = await fetch(`${server.url}/v1/tasks/target/runs`, {
      method: "POST",
      headers: { ...server.auth, "Content-Type": "application/json" },
      body: JSON.stringify({ params: [pidFile] }),
    });
    const { run } = (await started.json()) as { run: { id: string } };
    await waitFor(async () => (await (await fetch(`${server.url}/v1/runs/${run.id}/log`, { headers: server.auth })).text()).includes("leader-done"));
    const cancel = await fetch(`${server.url}/v1/runs/${run.id}/cancel`, { method: "POST", headers: server.auth });
    assert.equal(cancel.status, 409, await cancel.text());
    assert.equal(await waitFor(async () => {
      const status = await statusOfRun(server, run.id);
      return status === "running" ? undefined : status;
    }, 5000), "succeeded");
    const [child] = pidsIn(pidFile);
    assert.ok(child && alive(child), "the task's background child is left running, as after any run");
  } finally {
    for (const pid of pidsIn(pidFile)) if (alive(pid)) process.kill(pid, "SIGKILL");
    await server.stop();
  }
});

test("kill -9 of the server mid-run: after a restart the run is interrupted with its output, its processes are gone, and a new run is accepted (AC7)", async () => {
  // Ignores SIGPIPE: its output pipe breaks with the server, and it must outlive the server.
  const tasks = {
    // The child started with `env -i` does not carry SDCI_RUN_ID (nor would one run through sudo).
    target: `trap '' PIPE; echo $$ > "$1"; env -i sleep 300 & echo $! >> "$1"; for i in $(seq 1 1000); do echo "line $i"; sleep 0.05; done`,
    quick: "echo ok",
  };
  const first = await startTestServer({ tasks, keep: true });
  const pidFile = join(first.root, "pids");
  const stream = await startStreaming(first, "target", [pidFile]);
  const seen = await readSse(stream, (_e, all) => outputOf(all, "stdout").includes("line 5\n"));
  const runId = seen[0]!.data.id as string;
  first.process.kill("SIGKILL");
  await once(first.process, "exit");
  const [taskPid, unmarkedPid] = pidsIn(pidFile);
  assert.ok(taskPid && alive(taskPid), "the task should still run after the server died");
  assert.ok(unmarkedPid && alive(unmarkedPid), "so should its child");
  const second = await startTestServer({ root: first.root });
  try {
    const run = (await (await fetch(`${second.url}/v1/runs/${runId}`, { headers: second.auth })).json()) as {
      status: string;
      finishedAt: string | null;
    };
    assert.equal(run.status, "interrupted");
    assert.ok(run.finishedAt);
    const replay = await readSse(
      await fetch(`${second.url}/v1/runs/${runId}/events`, { headers: { ...second.auth, Accept: "text/event-stream" } }),
    );
    assert.match(outputOf(replay, "stdout"), /^line 1\nline 2\nline 3\nline 4\nline 5\n/);
    assert.equal(replay.at(-1)!.event, "exit");
    assert.equal(replay.at(-1)!.data.status, "interrupted");
    assert.ok(await waitFor(() => !alive(taskPid), 2000), "the orphaned task survived the restart");
    assert.ok(await waitFor(() => !alive(unmarkedPid), 2000), "the task's child without SDCI_RUN_ID survived the restart");
    await nextRunAccepted(second);
  } finally {
    await second.stop();
  }
});

test("SIGTERM to the server: the task's group gets SIGTERM, both readers get the exit event, the server exits 0 within grace + 2 s (AC8)", async () => {
  const server = await startTestServer({
    tasks: { target: `trap 'echo term > "$1"; exit 0' TERM; echo ready; while true; do sleep 0.1; done` },
  });
  const marker = join(server.root, "marker");
  try {
    const first = await startStreaming(server, "target", [marker]);
    const firstEvents = readSse(first);
    const runs = (await (await fetch(`${server.url}/v1/runs`, { headers: server.auth })).json()) as { runs: { id: string }[] };
    const second = await fetch(`${server.url}/v1/runs/${runs.runs[0]!.id}/events`, {
      headers: { ...server.auth, Accept: "text/event-stream" },
    });
    const secondEvents = readSse(second);
    await sleep(300);
    const signalled = performance.now();
    server.process.kill("SIGTERM");
    const [code] = (await once(server.process, "exit")) as [number];
    assert.equal(code, 0);
    assert.ok(performance.now() - signalled < 2000 + 2000);
    for (const events of [await firstEvents, await secondEvents]) {
      assert.equal(events.at(-1)!.event, "exit");
      assert.equal(events.at(-1)!.data.status, "interrupted");
    }
    assert.equal(readFileSync(marker, "utf8"), "term\n");
  } finally {
    await server.stop();
  }
});

test("SIGHUP (a closed terminal or ssh session) stops the server as SIGTERM does: the run is interrupted and its group is gone", async () => {
  const server = await startTestServer({ tasks: { sleepers: TWO_SLEEPERS } });
  const pidFile = join(server.root, "pids");
  try {
    const events = readSse(await startStreaming(server, "sleepers", [pidFile]));
    await waitFor(() => pidsIn(pidFile).length === 3);
    server.process.kill("SIGHUP");
    const [code, signal] = (await once(server.process, "exit")) as [number | null, string | null];
    assert.deepEqual([code, signal], [0, null], "the server stopped by itself, not killed by the signal");
    assert.equal((await events).at(-1)!.data.status, "interrupted");
    for (const pid of pidsIn(pidFile)) assert.equal(alive(pid), false, `process ${pid} outlived the server`);
  } finally {
    await server.stop();
  }
});

test("a second Ctrl-C while the server stops does not cut the shutdown short: the TERM-deaf group is killed at the grace", async () => {
  const server = await startTestServer({ tasks: { deaf: DEAF_TO_TERM }, args: ["--kill-grace", "2"] });
  const pidFile = join(server.root, "pids");
  try {
    const events = readSse(await startStreaming(server, "deaf", [pidFile]));
    await waitFor(() => pidsIn(pidFile).length === 2);
    server.process.kill("SIGINT");
    await sleep(300);
    server.process.kill("SIGINT");
    const [code] = (await once(server.process, "exit")) as [number];
    assert.equal(code, 0, "the second signal must not end the server before its runs");
    assert.equal((await events).at(-1)!.data.status, "interrupted");
    for (const pid of pidsIn(pidFile)) assert.equal(alive(pid), false, `process ${pid} outlived the server`);
    assert.match(server.output(), /already stopping/);
  } finally {
    await server.stop();
  }
});

/** A TCP proxy that cuts its first connection after `cutAfter` bytes from the server. */
async function cuttingProxy(target: string, cutAfter: number) {
  const { port, hostname } = new URL(target);
  let connections = 0;
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    const index = connections++;
    const upstream = createConnection({ port: Number(port), host: hostname });
    sockets.add(client).add(upstream);
    let forwarded = 0;
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      if (index === 0 && forwarded + chunk.length >= cutAfter) {
        client.write(chunk.subarray(0, cutAfter - forwarded));
        client.destroy();
        upstream.destroy();
        return;
      }
      forwarded += chunk.length;
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  proxy.listen(0, "127.0.0.1");
  await once(proxy, "listening");
  const address = proxy.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    connections: () => connections,
    close: () => {
      for (const socket of sockets) socket.destroy();
      proxy.close();
    },
  };
}

test("a connection cut mid-stream: sdci-cli run prints every line exactly once and exits with the task's code (AC9)", async () => {
  const server = await startTestServer({ tasks: { target: 'for i in $(seq 1 60); do echo "line $i"; sleep 0.02; done; exit 5' } });
  const proxy = await cuttingProxy(server.url, 1500);
  try {
    const result = await runCli(["run", proxy.url, "target"], { SDCI_TOKEN: server.token });
    assert.equal(result.stdout, Array.from({ length: 60 }, (_, i) => `line ${i + 1}\n`).join(""));
    assert.equal(result.code, 5);
    assert.ok(proxy.connections() >= 2, "the stream was never cut");
  } finally {
    proxy.close();
    await server.stop();
  }
});

test("Ctrl-C once cancels the run and waits for its end; twice stops waiting at once", async () => {
  const server = await startTestServer({ tasks: { slow: 'echo ready; sleep 300', deaf: DEAF_TO_TERM } });
  const pidFile = join(server.root, "pids");
  try {
    const once1 = spawn(process.execPath, [cliBin, "run", server.url, "slow"], { env: { ...process.env, SDCI_TOKEN: server.token } });
    let out = "";
    let err = "";
    once1.stdout.on("data", (c) => (out += c));
    once1.stderr.on("data", (c) => (err += c));
    await waitFor(() => out.includes("ready"));
    once1.kill("SIGINT");
    const [code] = (await once(once1, "exit")) as [number];
    assert.match(err, /cancelling the run/);
    assert.equal(code, 128 + 15);
    const runs = (await (await fetch(`${server.url}/v1/runs`, { headers: server.auth })).json()) as { runs: { status: string }[] };
    assert.equal(runs.runs[0]!.status, "cancelled");

    const twice = spawn(process.execPath, [cliBin, "run", server.url, "deaf", pidFile], { env: { ...process.env, SDCI_TOKEN: server.token } });
    let out2 = "";
    twice.stdout.on("data", (c) => (out2 += c));
    await waitFor(() => out2.includes("ready"));
    twice.kill("SIGINT");
    await sleep(200);
    const pressed = performance.now();
    twice.kill("SIGINT");
    const [code2] = (await once(twice, "exit")) as [number];
    assert.equal(code2, 130);
    // The run ignores SIGTERM, so waiting for it would take the whole grace: detaching must not.
    assert.ok(performance.now() - pressed < 1800);
    const status = await waitFor(async () => {
      const list = (await (await fetch(`${server.url}/v1/runs`, { headers: server.auth })).json()) as { runs: { status: string }[] };
      return list.runs[0]!.status === "cancelled";
    }, 5000);
    assert.ok(status, "the run was not cancelled after the CLI detached");
  } finally {
    await server.stop();
  }
});

test("one reader that stops reading while the task prints 200 MB: server memory grows < 100 MB and another reader finishes (AC3)", async () => {
  const server = await startTestServer({
    tasks: { flood: `yes "$(printf '%099d' 7)" | head -c 200000000` },
  });
  const status = () => readFileSync(`/proc/${server.process.pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status())![1]);
  try {
    const before = kib("VmRSS");
    const stalled = await startStreaming(server, "flood", []);
    const stalledReader = stalled.body!.getReader();
    await stalledReader.read();
    const runs = (await (await fetch(`${server.url}/v1/runs`, { headers: server.auth })).json()) as { runs: { id: string }[] };
    const fast = await fetch(`${server.url}/v1/runs/${runs.runs[0]!.id}/events`, {
      headers: { ...server.auth, Accept: "text/event-stream" },
    });
    let bytes = 0;
    let sawExit = false;
    const decoder = new TextDecoder();
    let tail = "";
    for await (const chunk of fast.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      tail = (tail + decoder.decode(chunk, { stream: true })).slice(-300);
      if (tail.includes("event: exit")) sawExit = true;
    }
    assert.ok(sawExit, "the fast reader did not get the exit event");
    assert.ok(bytes > 200_000_000);
    const grownMb = (kib("VmHWM") - before) / 1024;
    assert.ok(grownMb < 100, `server peak memory grew by ${grownMb.toFixed(1)} MB`);
    console.log(`# 200 MB flood: server peak memory grew by ${grownMb.toFixed(1)} MB`);
    await stalledReader.cancel();
  } finally {
    await server.stop();
  }
});

/** sdci-cli run through `url`, with its output collected. */
function runThrough(url: string, server: TestServer, task: string) {
  const cli = spawn(process.execPath, [cliBin, "run", url, task], { env: { ...process.env, SDCI_TOKEN: server.token } });
  const seen = { stdout: "", stderr: "" };
  cli.stdout.on("data", (chunk) => (seen.stdout += chunk));
  cli.stderr.on("data", (chunk) => (seen.stderr += chunk));
  return { cli, seen, exited: once(cli, "exit") as Promise<[number | null]> };
}

async function statusOfRun(server: TestServer, id: string): Promise<string> {
  return ((await (await fetch(`${server.url}/v1/runs/${id}`, { headers: server.auth })).json()) as { status: string }).status;
}

/** A server with a `slow` task behind a proxy the test holds up or takes down; both stopped after. */
async function behindProxy(script: string, body: (server: TestServer, proxy: ControlledProxy) => Promise<void>): Promise<void> {
  const server = await startTestServer({ tasks: { slow: script } });
  const proxy = await controlledProxy(server.url);
  try {
    await body(server, proxy);
  } finally {
    proxy.close();
    await server.stop();
  }
}

test("Ctrl-C twice before the run's first event has come: the CLI waits for the run's id, cancels it, then leaves with 130", () =>
  behindProxy("echo ready; sleep 6; echo done", async (server, proxy) => {
    proxy.hold();
    const { cli, seen, exited } = runThrough(proxy.url, server, "slow");
    // The server has started the run; the CLI has not heard of it.
    const runId = await waitFor(async () => (await busyHolder(server))?.id);
    assert.ok(runId);
    await sleep(100);
    cli.kill("SIGINT");
    // Two signals sent together may reach the CLI as one: the second goes once the first is seen.
    assert.ok(await waitFor(() => seen.stderr.includes("cancelling the run"), 5000));
    cli.kill("SIGINT");
    await sleep(300);
    proxy.release();
    const [code] = await exited;
    assert.equal(code, 130, seen.stderr);
    assert.match(seen.stderr, new RegExp(`run ${runId} is being cancelled on the server`));
    assert.ok(await waitFor(async () => (await statusOfRun(server, runId)) === "cancelled", 5000), "the run was not cancelled");
  }));

test("a Ctrl-C while the link to the server is down is sent once it is back: the run is cancelled, and the CLI says so", () =>
  behindProxy("echo ready; sleep 6; echo done", async (server, proxy) => {
    const { cli, seen, exited } = runThrough(proxy.url, server, "slow");
    await waitFor(() => seen.stdout.includes("ready"));
    proxy.down();
    await sleep(100);
    cli.kill("SIGINT");
    await sleep(1000);
    proxy.up();
    const [code] = await exited;
    assert.equal(code, 128 + 15, seen.stderr);
    assert.doesNotMatch(seen.stdout, /done/);
    assert.match(seen.stderr, /task 'slow' cancelled/);
  }));

test("a connection lost before the run's first event: the CLI does not claim the run never started", () =>
  behindProxy("echo ready; sleep 1; echo done", async (server, proxy) => {
    proxy.hold();
    const { seen, exited } = runThrough(proxy.url, server, "slow");
    await waitFor(async () => (await busyHolder(server)) !== null);
    proxy.down();
    const [code] = await exited;
    assert.equal(code, 1);
    assert.match(seen.stderr, /^sdci-cli: the connection to http\S+ was lost before its answer, so the run may have started or not \(see: sdci-cli runs http/);
  }));
