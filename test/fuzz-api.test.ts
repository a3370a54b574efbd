// Issue 9: every operation of openapi.yaml, attacked with random and malformed requests, with
// and without the token. Invariants: never a 5xx, problem+json on every 4xx, nothing under /v1
// without the token, the token never in a reply, the server still serving, the lock free at the
// end, nothing written outside the uploads and data folders.
//
// The seed is printed; rerun a failure with SDCI_FUZZ_SEED=<seed>. SDCI_FUZZ_REQUESTS sets how
// many requests to send (default 2000).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { parse } from "yaml";
import { type FuzzRequest, type Value, operationsOf, requestFor } from "./helpers/openapi-fuzz.js";
import { rawExchange } from "./helpers/raw-http.js";
import { type TestServer, repoRoot, startTestServer } from "./helpers/server.js";
import { waitFor } from "./helpers/wait.js";

const seed = process.env.SDCI_FUZZ_SEED ? Number(process.env.SDCI_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const wantedRequests = Number(process.env.SDCI_FUZZ_REQUESTS ?? 2000);
/** Requests sent at once: concurrent starts, cancels and readers race for the lock and the logs. */
const BATCH_SIZE = 4;
/** A stream of a run ends with the run, which --task-timeout bounds; nothing may take longer. */
const ANSWER_TIMEOUT_MS = 20_000;
const RUN_ID = /\d{8}T\d{9}Z-[0-9a-f]{6}/g;

const TASKS = {
  quick: 'echo "quick $#"',
  fails: "echo nope >&2; exit 3",
  echoes: 'printf "%s\\n" "$@"',
  sleepy: "sleep 3",
  background: "sleep 2 & echo started",
};

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Fills in live values (real task names and run ids) and sends the request from 127.0.0.<source>. */
function send(server: TestServer, fuzz: FuzzRequest, known: Map<string, string[]>): { target: string; answer: Promise<Answer> } {
  const fill = (value: Value) => {
    if ("literal" in value) return value.literal;
    const pool = known.get(value.known) ?? [];
    return pool.length > 0 ? pool[value.pick % pool.length]! : `x${value.pick % 10}`;
  };
  const query = fuzz.query.map(([name, value]) => `${name}=${fill(value)}`).join("&");
  const target = `/${fuzz.pathSegments.map(fill).join("/")}${query ? `?${query}` : ""}`;
  const headers: Record<string, string> = Object.fromEntries(fuzz.headers);
  const authorization = {
    valid: `Bearer ${server.token}`,
    none: undefined,
    wrong: `Bearer wrong-${fuzz.source}`,
    malformed: ["Basic dXNlcjpwYXNz", "Bearer", `Bearer ${server.token} extra`, `Token ${server.token}`, "Bearer \u00ff", server.token][
      fuzz.source % 6
    ],
  }[fuzz.auth];
  if (authorization !== undefined) headers.Authorization = authorization;
  const { hostname, port } = new URL(server.url);
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = request({
      host: hostname,
      port,
      method: fuzz.method,
      path: target,
      headers,
      localAddress: `127.0.0.${fuzz.source}`,
      agent: false,
      timeout: ANSWER_TIMEOUT_MS,
    });
    let answered = false;
    req.on("timeout", () => req.destroy(new Error(`no complete answer within ${ANSWER_TIMEOUT_MS} ms`)));
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    req.on("response", (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    const body = fuzz.body?.bytes;
    if (body && body.length > 0 && fuzz.body?.chunked) {
      // Named, because node's client sends a GET body without any framing otherwise.
      req.setHeader("Transfer-Encoding", "chunked");
      const half = Math.floor(body.length / 2);
      req.write(body.subarray(0, half));
      req.end(body.subarray(half));
    } else if (body && fuzz.method !== "HEAD") {
      req.setHeader("Content-Length", body.length);
      req.end(body);
    } else {
      req.end();
    }
  });
  return { target, answer };
}

/** The per-request invariants. */
function checkAnswer(server: TestServer, fuzz: FuzzRequest, target: string, answer: Answer): void {
  const where = `${fuzz.method} ${target} (${fuzz.operation}, auth ${fuzz.auth}) -> ${answer.status}`;
  assert.ok(answer.status >= 200 && answer.status < 500, `${where}: not a 2xx-4xx answer`);
  const text = answer.body.toString("utf8");
  assert.ok(!text.includes(server.token) && !JSON.stringify(answer.headers).includes(server.token), `${where}: the token is in the reply`);
  if (target.startsWith("/v1") && fuzz.auth !== "valid") {
    // A malformed header may still carry the token in a form the server accepts.
    const carriesToken = fuzz.auth === "malformed" && fuzz.source % 6 === 2;
    if (!carriesToken) assert.ok(answer.status >= 400, `${where}: let in without a valid token`);
  }
  const type = String(answer.headers["content-type"] ?? "");
  if (answer.status >= 400) {
    assert.match(type, /^application\/problem\+json/, `${where}: a 4xx that is not problem+json`);
    if (fuzz.method !== "HEAD") {
      const problem = JSON.parse(text) as { type?: unknown; title?: unknown; status?: unknown };
      assert.equal(problem.status, answer.status, `${where}: problem status differs`);
      assert.match(String(problem.type), /^urn:sdci:problem:[a-z-]+$/, `${where}: problem type`);
      assert.equal(typeof problem.title, "string", `${where}: problem title`);
    }
    if (answer.status === 429 || answer.status === 503) assert.ok(answer.headers["retry-after"], `${where}: no Retry-After`);
  } else if (/json/.test(type) && fuzz.method !== "HEAD") {
    JSON.parse(text);
  }
}

/** Names and contents of the files under `dir`, to compare before and after. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return `${path} ${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
    })
    .sort();
}

test(`fuzzing every operation of openapi.yaml: ${wantedRequests} requests hold the invariants (AC1)`, async (t) => {
  t.diagnostic(`fuzz seed ${seed} (rerun with SDCI_FUZZ_SEED=${seed})`);
  console.log(`# fuzz seed ${seed} (rerun with SDCI_FUZZ_SEED=${seed})`);
  const cwd = mkdtempSync(join(tmpdir(), "sdci-fuzz-cwd-"));
  const server = await startTestServer({ tasks: TASKS, cwd, args: ["--task-timeout", "1", "--kill-grace", "1"] });
  try {
    const contract = parse(readFileSync(join(repoRoot, "openapi.yaml"), "utf8"));
    const operations = operationsOf(contract);
    assert.ok(operations.length >= 9, `only ${operations.length} operations found in openapi.yaml`);
    const tasksBefore = snapshot(server.tasksDir);
    const known = new Map<string, string[]>([
      ["task", Object.keys(TASKS)],
      ["id", []],
    ]);
    /** Answers by operation and status, to show what the fuzz reached. */
    const perOperation = new Map<string, Record<number, number>>();
    let sent = 0;
    let batches = 0;

    // Operations that change state get more of the requests: they are where the lock and the files are.
    const anyRequest = fc.oneof(...operations.map((op) => ({ weight: op.method === "GET" ? 1 : 3, arbitrary: requestFor(op) })));
    const property = fc.asyncProperty(fc.array(anyRequest, { minLength: BATCH_SIZE, maxLength: BATCH_SIZE }), async (batch) => {
      const inFlight = batch.map((fuzz) => ({ fuzz, ...send(server, fuzz, known) }));
      sent += batch.length;
      const answers = await Promise.all(inFlight.map(({ answer }) => answer));
      for (const [index, { fuzz, target }] of inFlight.entries()) {
        const answer = answers[index]!;
        checkAnswer(server, fuzz, target, answer);
        const statuses = perOperation.get(fuzz.operation) ?? {};
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        perOperation.set(fuzz.operation, statuses);
        const ids = known.get("id")!;
        for (const id of answer.body.toString("utf8").match(RUN_ID) ?? []) if (!ids.includes(id)) ids.push(id);
      }
      if (++batches % 50 === 0) {
        const health = await fetch(`${server.url}/health`);
        assert.equal(health.status, 200, "the server stopped answering /health");
      }
    });
    await fc.assert(property, { seed, numRuns: Math.ceil(wantedRequests / BATCH_SIZE), includeErrorInReport: true });
    t.diagnostic(`${sent} requests; answers by operation and status: ${JSON.stringify(Object.fromEntries(perOperation))}`);
    if (!process.env.SDCI_FUZZ_REQUESTS) assert.ok(sent >= 2000, `only ${sent} requests were sent`);
    for (const op of operations) assert.ok(perOperation.has(op.id), `${op.id} was never fuzzed`);

    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    const idle = await waitFor(async () => {
      const status = await fetch(`${server.url}/v1/status`, { headers: server.auth });
      return ((await status.json()) as { busy: unknown }).busy === null;
    }, 15_000);
    assert.ok(idle, "the lock is still held after every run has ended");
    assert.deepEqual(readdirSync(server.root).sort(), ["data", "tasks", "uploads"], "something was created beside the server's folders");
    assert.deepEqual(snapshot(server.tasksDir), tasksBefore, "the tasks folder changed");
    assert.deepEqual(readdirSync(cwd), [], "something was created in the server's working folder");
    assert.doesNotMatch(server.output(), /unexpected error/);
    assert.ok(!server.output().includes(server.token), "the token is in the server's output");
  } finally {
    await server.stop();
    rmSync(cwd, { recursive: true, force: true });
  }
});

test("raw malformed requests get a problem or a closed connection, never a 5xx, and the server goes on", async () => {
  const server = await startTestServer({ tasks: TASKS });
  try {
    const valid = `GET /v1/status HTTP/1.1\r\nHost: sdci\r\nAuthorization: Bearer ${server.token}\r\n\r\n`;
    const mutation = fc.oneof(
      fc.tuple(fc.nat(valid.length), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([at, bytes]) =>
        Buffer.concat([Buffer.from(valid.slice(0, at), "latin1"), Buffer.from(bytes), Buffer.from(valid.slice(at), "latin1")]),
      ),
      fc.nat(valid.length).map((at) => Buffer.from(valid.slice(0, at) + valid.slice(at + 1), "latin1")),
      fc.constantFrom(
        "POST /v1/tasks/quick/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST /v1/tasks/quick/runs HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        "POST /v1/tasks/quick/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "POST /v1/tasks/quick/runs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET http://evil.example/health HTTP/1.1\r\nHost: x\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /health HTTP/1.0\r\n\r\n",
        "GET /health\r\n\r\n",
        "GET /health HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
        "GET /health HTTP/1.1\r\nHost: x\r\n X-Folded: y\r\n\r\n",
        `GET /health HTTP/1.1\r\nHost: x\r\n${"X-Many: 1\r\n".repeat(3000)}\r\n`,
        "GET /%%30%30 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /v1/runs/%00/log HTTP/1.1\r\nHost: x\r\n\r\n",
      ).map((text) => Buffer.from(text, "latin1")),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async (bytes) => {
        // Half-closed after the request, so neither keep-alive nor an incomplete request is waited on.
        const answer = await rawExchange(server.url, [bytes], { end: true, timeoutMs: 10_000 });
        if (answer.status === 0) return;
        assert.ok(answer.status < 500, `answered ${answer.status} to ${JSON.stringify(bytes.toString("latin1"))}`);
        if (answer.status >= 400) assert.match(answer.headers["content-type"] ?? "", /^application\/problem\+json/);
      }),
      { seed, numRuns: 200, includeErrorInReport: true },
    );
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  } finally {
    await server.stop();
  }
});
