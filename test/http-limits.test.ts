// Issue 9: HTTP limits set on purpose. Slow, huge or broken requests are cut with a problem;
// slow but honest ones (long bodies, long streams) are not.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, statSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { busyHolder } from "./helpers/http.js";
import { openSocket, rawExchange, readResponse, requestHead } from "./helpers/raw-http.js";
import { readSse } from "./helpers/sse.js";
import { type TestServer, startTestServer } from "./helpers/server.js";
import { waitFor } from "./helpers/wait.js";

const HEADERS_TIMEOUT_S = 2;
const IDLE_TIMEOUT_S = 3;

function assertProblem(answer: { status: number; headers: Record<string, string>; body: string }, status: number) {
  assert.equal(answer.status, status);
  assert.match(answer.headers["content-type"] ?? "", /^application\/problem\+json/);
  const problem = JSON.parse(answer.body) as { status: number; type: string };
  assert.equal(problem.status, status);
  return problem;
}

describe("HTTP limits", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      tasks: {
        quick: 'echo "quick $1"',
        pauses: 'echo first; sleep 4.5; echo second',
        waits: "sleep 30",
        brief: "sleep 1; echo brief",
      },
      args: [
        "--headers-timeout",
        String(HEADERS_TIMEOUT_S),
        "--idle-timeout",
        String(IDLE_TIMEOUT_S),
        "--keepalive",
        "1",
        "--max-streams",
        "2",
      ],
    });
  });
  after(() => server.stop());

  const health = async () => (await fetch(`${server.url}/health`)).status;

  test("a client sending its headers one byte a second is dropped at --headers-timeout with 408 (AC2)", async () => {
    const bytes = [..."GET /health HTTP/1.1\r\nHost: sdci\r\nX-Slow: " + "a".repeat(20) + "\r\n\r\n"];
    const answer = await rawExchange(server.url, bytes, { gapMs: 1000 });
    assertProblem(answer, 408);
    assert.ok(answer.closedAfterMs >= HEADERS_TIMEOUT_S * 1000 - 200, `cut too early: ${answer.closedAfterMs} ms`);
    assert.ok(answer.closedAfterMs < HEADERS_TIMEOUT_S * 1000 + 2000, `cut too late: ${answer.closedAfterMs} ms`);
    assert.equal(await health(), 200);
  });

  test("a request body trickling in for longer than the headers timeout is read whole (AC2)", async () => {
    const body = JSON.stringify({ params: ["a".repeat(200)] });
    const head =
      `POST /v1/tasks/quick/runs HTTP/1.1\r\nHost: sdci\r\nAuthorization: Bearer ${server.token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    const pieces = body.match(/.{1,5}/g) ?? [];
    // 40+ pieces 120 ms apart: about 5 s, beyond the 2 s headers timeout, never idle for 3 s.
    const answer = await rawExchange(server.url, [head, ...pieces], { gapMs: 120 });
    assert.equal(answer.status, 202, answer.body);
    assert.ok(answer.closedAfterMs > HEADERS_TIMEOUT_S * 1000 * 2, `body sent too fast to prove anything: ${answer.closedAfterMs}`);
    await waitFor(async () => (await busyHolder(server)) === null);
  });

  test("a 100 MB upload sent at a steady rate for longer than the headers timeout completes (AC2)", async () => {
    const chunkBytes = 1024 * 1024;
    const chunks = 100;
    const hash = createHash("sha256");
    const started = performance.now();
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const { hostname, port } = new URL(server.url);
      const req = request({
        host: hostname,
        port,
        method: "PUT",
        path: "/v1/assets/slow/big.bin",
        headers: { ...server.auth, "Content-Type": "application/octet-stream", "Content-Length": chunkBytes * chunks },
      });
      req.on("error", reject);
      req.on("response", (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      let sent = 0;
      // One MiB every 50 ms: about 20 MB/s for 5 s, never idle for the 3 s idle timeout.
      const timer = setInterval(() => {
        const chunk = Buffer.alloc(chunkBytes, sent % 251);
        hash.update(chunk);
        req.write(chunk);
        if (++sent === chunks) {
          clearInterval(timer);
          req.end();
        }
      }, 50);
    });
    const elapsed = performance.now() - started;
    assert.equal(answer.status, 201, answer.body);
    assert.ok(elapsed > HEADERS_TIMEOUT_S * 1000 * 2, `sent too fast to prove anything: ${elapsed} ms`);
    const asset = JSON.parse(answer.body) as { size: number; sha256: string };
    assert.deepEqual(asset, { path: "slow/big.bin", size: chunkBytes * chunks, sha256: hash.digest("hex") });
    assert.equal(statSync(join(server.uploadsDir, "slow", "big.bin")).size, chunkBytes * chunks);
  });

  test("an upload that stalls is dropped at --idle-timeout: no file, the lock free again", async () => {
    const head =
      `PUT /v1/assets/stalled.bin HTTP/1.1\r\nHost: sdci\r\nAuthorization: Bearer ${server.token}\r\n` +
      "Content-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n";
    const answer = await rawExchange(server.url, [head, Buffer.alloc(1000, 7)]);
    assert.ok(answer.closedAfterMs >= IDLE_TIMEOUT_S * 1000 - 200, `closed too early: ${answer.closedAfterMs} ms`);
    assert.ok(answer.closedAfterMs < IDLE_TIMEOUT_S * 1000 + 2000, `closed too late: ${answer.closedAfterMs} ms`);
    const idle = await waitFor(async () => (await busyHolder(server)) === null, 5000);
    assert.ok(idle, "the stalled upload still holds the lock");
    assert.equal(existsSync(join(server.uploadsDir, "stalled.bin")), false);
    assert.deepEqual(readdirSync(server.uploadsDir).filter((name) => name.startsWith(".sdci-upload")), []);
  });

  test("an event stream outlives the headers and idle timeouts while the task is silent for longer than both (AC2)", async () => {
    const response = await fetch(`${server.url}/v1/tasks/pauses/runs`, {
      method: "POST",
      headers: { ...server.auth, Accept: "text/event-stream" },
    });
    assert.equal(response.status, 200);
    const started = performance.now();
    const events = await readSse(response);
    assert.ok(performance.now() - started > IDLE_TIMEOUT_S * 1000);
    assert.deepEqual(
      events.filter((e) => e.event === "output").map((e) => e.data.text),
      ["first\n", "second\n"],
    );
    assert.equal(events.at(-1)?.event, "exit");
    assert.equal(events.at(-1)?.data.status, "succeeded");
  });

  test("a plain-text log followed while the task is silent for longer than the idle timeout is read whole; then the timeout is back", async () => {
    const started = await fetch(`${server.url}/v1/tasks/pauses/runs`, { method: "POST", headers: server.auth });
    assert.equal(started.status, 202);
    const { run } = (await started.json()) as { run: { id: string } };
    const socket = await openSocket(server.url);
    try {
      const since = performance.now();
      socket.write(requestHead("GET", `/v1/runs/${run.id}/log?follow=true`, { Authorization: `Bearer ${server.token}` }));
      const log = await readResponse(socket, 15_000);
      assert.equal(log.status, 200);
      assert.equal(log.body, "first\nsecond\n");
      assert.ok(performance.now() - since > IDLE_TIMEOUT_S * 1000, "the task was not silent for longer than the idle timeout");
      // The next request on the same connection stalls in its body: the idle timeout is back.
      const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(performance.now())));
      const idleSince = performance.now();
      socket.write(
        requestHead("POST", "/v1/tasks/quick/runs", { Authorization: `Bearer ${server.token}`, "Content-Type": "application/json", "Content-Length": 100 }) + "{",
      );
      const closedAfterMs = (await closed) - idleSince;
      assert.ok(closedAfterMs >= IDLE_TIMEOUT_S * 1000 - 200, `closed too early: ${closedAfterMs} ms`);
      assert.ok(closedAfterMs < IDLE_TIMEOUT_S * 1000 + 2000, `closed too late: ${closedAfterMs} ms`);
    } finally {
      socket.destroy();
    }
  });

  test("a connection that stalls in the middle of a body is closed after --idle-timeout", async () => {
    const head =
      `POST /v1/tasks/quick/runs HTTP/1.1\r\nHost: sdci\r\nAuthorization: Bearer ${server.token}\r\n` +
      "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
    const answer = await rawExchange(server.url, [head]);
    assert.ok(answer.closedAfterMs >= IDLE_TIMEOUT_S * 1000 - 200, `closed too early: ${answer.closedAfterMs} ms`);
    assert.ok(answer.closedAfterMs < IDLE_TIMEOUT_S * 1000 + 2000, `closed too late: ${answer.closedAfterMs} ms`);
    assert.equal(await health(), 200);
  });

  test("a transfer coding other than chunked gets 400 before the body is used, and nothing is kept", async () => {
    for (const coding of ["gzip, chunked", "identity, chunked", "x-custom, chunked"]) {
      const head =
        `PUT /v1/assets/coded/file.bin HTTP/1.1\r\nHost: sdci\r\nAuthorization: Bearer ${server.token}\r\n` +
        `Content-Type: application/octet-stream\r\nTransfer-Encoding: ${coding}\r\nConnection: close\r\n\r\n`;
      const answer = await rawExchange(server.url, [head, "3\r\nabc\r\n0\r\n\r\n"]);
      const problem = assertProblem(answer, 400) as { detail?: string };
      assert.match(problem.detail ?? "", /Transfer-Encoding/, coding);
    }
    assert.equal(existsSync(join(server.uploadsDir, "coded")), false);
    assert.equal(await health(), 200);
  });

  test("headers larger than 16 KiB get 431 as problem+json", async () => {
    const answer = await rawExchange(server.url, [`GET /health HTTP/1.1\r\nHost: sdci\r\nX-Big: ${"b".repeat(17 * 1024)}\r\n\r\n`]);
    assertProblem(answer, 431);
    const fits = await fetch(`${server.url}/health`, { headers: { "X-Big": "b".repeat(12 * 1024) } });
    assert.equal(fits.status, 200);
  });

  test("Host: HTTP/1.0 may leave it out (served); HTTP/1.1 must send it (400 as problem+json, RFC 9112)", async () => {
    const old = await rawExchange(server.url, ["GET /health HTTP/1.0\r\n\r\n"]);
    assert.equal(old.status, 200, old.body);
    assert.equal(JSON.parse(old.body).status, "ok");
    assertProblem(await rawExchange(server.url, ["GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"]), 400);
  });

  test("a request that is not HTTP gets 400 (a CONNECT 405) as problem+json and the server goes on", async () => {
    for (const garbage of ["GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET /health HTTP/1.1\r\nBad Header\r\n\r\n", "\u0000\u0001\u0002\r\n\r\n"]) {
      assertProblem(await rawExchange(server.url, [garbage]), 400);
    }
    const connect = await rawExchange(server.url, ["CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n"]);
    assertProblem(connect, 405);
    assert.equal(connect.headers.allow, "GET, HEAD, POST, PUT");
    const expectation = await rawExchange(server.url, ["GET /v1/status HTTP/1.1\r\nHost: sdci\r\nExpect: foo\r\n\r\n"]);
    assertProblem(expectation, 417);
    assert.equal(await health(), 200);
  });

  test("with --max-streams 2 a third stream gets 503 with Retry-After; a closed stream frees its slot", async () => {
    const started = await fetch(`${server.url}/v1/tasks/waits/runs`, { method: "POST", headers: server.auth });
    assert.equal(started.status, 202);
    const { run } = (await started.json()) as { run: { id: string } };
    const eventsUrl = `${server.url}/v1/runs/${run.id}/events`;
    const readers = [new AbortController(), new AbortController()];
    try {
      for (const reader of readers) {
        const open = await fetch(eventsUrl, { headers: server.auth, signal: reader.signal });
        assert.equal(open.status, 200);
      }
      for (const url of [eventsUrl, `${server.url}/v1/runs/${run.id}/log?follow=true`]) {
        const refused = await fetch(url, { headers: server.auth });
        assert.equal(refused.status, 503);
        assert.equal(refused.headers.get("content-type"), "application/problem+json");
        assert.ok(Number(refused.headers.get("retry-after")) > 0);
        assert.equal(((await refused.json()) as { type: string }).type, "urn:sdci:problem:too-many-streams");
      }
      readers[0]!.abort();
      const reopened = await waitFor(async () => {
        const answer = await fetch(eventsUrl, { headers: server.auth, signal: AbortSignal.timeout(500) });
        if (answer.status === 200) return true;
        await answer.body?.cancel();
        return false;
      }, 5000, 100);
      assert.ok(reopened, "the aborted reader's slot was never freed");
    } finally {
      for (const reader of readers) reader.abort();
      await fetch(`${server.url}/v1/runs/${run.id}/cancel`, { method: "POST", headers: server.auth });
      await sleep(100);
    }
  });

  /** Waits until no run or upload holds the lock (a cancelled run takes a moment to end). */
  const idle = () => waitFor(async () => (await busyHolder(server)) === null);

  test("pipelined stream requests are each answered whole, in turn", async () => {
    assert.ok(await idle());
    const quick = (await (await fetch(`${server.url}/v1/tasks/quick/runs`, { method: "POST", headers: server.auth })).json()) as { run: { id: string } };
    assert.ok(await idle());
    const brief = (await (await fetch(`${server.url}/v1/tasks/brief/runs`, { method: "POST", headers: server.auth })).json()) as { run: { id: string } };
    // The second answer waits behind the first, which follows a run for a second.
    const answer = await rawExchange(
      server.url,
      [
        requestHead("GET", `/v1/runs/${brief.run.id}/log?follow=true`, server.auth) +
          requestHead("GET", `/v1/runs/${quick.run.id}/events`, { ...server.auth, Connection: "close" }),
      ],
      { timeoutMs: 8000 },
    );
    const text = answer.body;
    assert.match(text, /brief\n/);
    assert.match(text, /event: exit\n/, "the second answer was not sent whole");
  });

  // A client that hangs up before its answer began: test/stream-slots.test.ts.
  test("HEAD requests hold no stream slot", async () => {
    assert.ok(await idle());
    const started = await fetch(`${server.url}/v1/tasks/waits/runs`, { method: "POST", headers: server.auth });
    assert.equal(started.status, 202);
    const { run } = (await started.json()) as { run: { id: string } };
    const readers: AbortController[] = [];
    try {
      for (const path of ["events", "log?follow=true"]) {
        for (let i = 0; i < 3; i++) {
          const head = await fetch(`${server.url}/v1/runs/${run.id}/${path}`, { method: "HEAD", headers: server.auth });
          assert.equal(head.status, 200);
        }
      }
      await sleep(300);
      // Both slots are free again: two readers get their streams.
      for (let i = 0; i < 2; i++) {
        const reader = new AbortController();
        readers.push(reader);
        const open = await fetch(`${server.url}/v1/runs/${run.id}/events`, { headers: server.auth, signal: reader.signal });
        assert.equal(open.status, 200, `reader ${i + 1}: ${open.status === 503 ? "a slot was never given back" : open.status}`);
      }
    } finally {
      for (const reader of readers) reader.abort();
      await fetch(`${server.url}/v1/runs/${run.id}/cancel`, { method: "POST", headers: server.auth });
      await sleep(100);
    }
  });
});

test("a --keepalive not shorter than --idle-timeout is refused at start, in one line", async () => {
  const failed = await startTestServer({ args: ["--keepalive", "60", "--idle-timeout", "60"] }).then(
    async (started) => {
      await started.stop();
      return undefined;
    },
    (error: Error) => error.message,
  );
  assert.ok(failed, "the server started");
  const output = failed.replace(/^server exited with 1:\n/, "").trim();
  assert.equal(output, "sdci-server: --keepalive must be shorter than --idle-timeout, or idle event streams would be cut");
});
