import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import type { DrainBounds } from "../src/assets/refused-body.js";
import { silentLogger } from "../src/logger.js";
import { startServer } from "../src/server/server.js";
import { contentDigest, listTree, residentMemory, sha256, sha256OfFile, writeRandomFile } from "./helpers/files.js";
import { busyHolder } from "./helpers/http.js";
import { encodeChunk, lastChunk, openSocket, rawRequest, readResponse, requestHead } from "./helpers/raw-http.js";
import { type TestServer, cliBin, runCli, startTestServer } from "./helpers/server.js";
import { makeTar } from "./helpers/tar.js";

const MiB = 1024 * 1024;

/** Waits until `check` holds, or fails after `ms`. */
async function eventually(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

/** What these helpers need of a server, spawned or in this process. */
type UploadTarget = Pick<TestServer, "url" | "auth" | "uploadsDir">;


function temps(server: UploadTarget): string[] {
  return listTree(server.uploadsDir).filter((path) => path.split("/").some((part) => part.startsWith(".sdci-upload-")));
}

function put(server: UploadTarget, path: string, body: Buffer<ArrayBuffer> | string, headers: Record<string, string> = {}) {
  const type = { "Content-Type": "application/octet-stream" };
  return fetch(`${server.url}/v1/assets/${path}`, { method: "PUT", body, headers: { ...server.auth, ...type, ...headers } });
}

describe("file uploads", () => {
  let server: TestServer;
  let bigFile: string;
  let bigSha: string;

  before(async () => {
    server = await startTestServer({
      tasks: { hold: 'while [ ! -e "$1" ]; do sleep 0.05; done; echo released' },
    });
    bigFile = join(server.root, "big.bin");
    bigSha = await writeRandomFile(bigFile, 200 * MiB);
  });
  after(() => server.stop());

  test("a 200 MiB file sent by sdci-cli arrives byte-identical; the server's peak memory grows by less than 64 MB", async () => {
    assert.equal((await put(server, "warmup/a.txt", "warm up the route")).status, 201);
    const before = residentMemory(server.process.pid!);
    const result = await runCli(["upload-asset", server.url, bigFile, "releases/v1"], { SDCI_TOKEN: server.token });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`uploaded releases/v1/big.bin \\(200 MiB, sha256 ${bigSha}\\)`));
    assert.equal(await sha256OfFile(join(server.uploadsDir, "releases", "v1", "big.bin")), bigSha);
    const afterUpload = residentMemory(server.process.pid!);
    const growth = afterUpload.peak - before.peak;
    assert.ok(growth < 64 * MiB, `peak resident memory grew by ${(growth / MiB).toFixed(1)} MiB`);
    assert.deepEqual(temps(server), []);
  });

  test("a client killed halfway leaves no file and no temp file, frees the lock, and the next upload works", async () => {
    const cli: ChildProcess = spawn(process.execPath, [cliBin, "upload-asset", server.url, bigFile, "killed"], {
      env: { ...process.env, SDCI_TOKEN: server.token },
      stdio: "ignore",
    });
    const exited = once(cli, "exit");
    await eventually(() => temps(server).some((path) => statSync(join(server.uploadsDir, path)).size > 10 * MiB), 30_000, "the upload is under way");
    cli.kill("SIGKILL");
    await exited;
    await eventually(async () => temps(server).length === 0 && (await busyHolder(server)) === null, 2000, "temp removed and lock free");
    assert.deepEqual(listTree(join(server.uploadsDir, "killed")), []);
    assert.equal((await put(server, "killed/next.txt", "next")).status, 201);
  });

  test("a raw client that sends half of its Content-Length and closes leaves nothing behind", async () => {
    const socket = await openSocket(server.url);
    socket.on("error", () => {});
    socket.write(requestHead("PUT", "/v1/assets/half/file.bin", { ...server.auth, "Content-Length": 8 * MiB }));
    socket.write(Buffer.alloc(4 * MiB, 1));
    await eventually(() => temps(server).length === 1, 5000, "the temp file exists");
    await eventually(async () => (await busyHolder(server)) !== null, 5000, "the upload holds the lock");
    socket.destroy();
    await eventually(async () => temps(server).length === 0 && (await busyHolder(server)) === null, 2000, "temp removed and lock free");
    assert.deepEqual(listTree(join(server.uploadsDir, "half")), []);
    assert.equal((await put(server, "half/file.bin", "whole")).status, 201);
  });

  test("an existing destination gets 409 before its body is read: 50 uploads of 50 MB answer promptly", async () => {
    assert.equal((await put(server, "exists/app.bin", "the original")).status, 201);
    const head = requestHead("PUT", "/v1/assets/exists/app.bin", { ...server.auth, "Content-Length": 50 * MiB });

    // The head alone gets the answer: the server has not waited for a byte of the body.
    const headOnly = await rawRequest(server.url, head, undefined, 5000);
    assert.equal(headOnly.status, 409);
    assert.equal(JSON.parse(headOnly.body).type, "urn:sdci:problem:asset-exists");

    // Clients that send the whole body at once still get their answer at once, and do not hang.
    const body = Buffer.alloc(50 * MiB, 7);
    const oneUpload = async () => {
      const socket = await openSocket(server.url);
      socket.on("error", () => {});
      const started = performance.now();
      const response = readResponse(socket, 10_000);
      socket.write(head);
      socket.write(body);
      const { status } = await response;
      socket.destroy();
      return { status, ms: performance.now() - started };
    };
    for (let batch = 0; batch < 5; batch++) {
      const results = await Promise.all(Array.from({ length: 10 }, oneUpload));
      for (const { status, ms } of results) {
        assert.equal(status, 409);
        assert.ok(ms < 5000, `answered after ${ms.toFixed(0)} ms`);
      }
    }
    const viaFetch = await put(server, "exists/app.bin", body);
    assert.equal(viaFetch.status, 409);
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    assert.equal(readFileSync(join(server.uploadsDir, "exists", "app.bin"), "utf8"), "the original");
    assert.equal(await busyHolder(server), null);
  });

  test("two uploads to one name at once: one 201, the other 409 or 429, and the file holds the winner's bytes", async () => {
    for (let round = 0; round < 3; round++) {
      const bodies = [Buffer.alloc(8 * MiB, 1 + 2 * round), Buffer.alloc(8 * MiB, 2 + 2 * round)];
      const responses = await Promise.all(bodies.map((body) => put(server, `race/${round}.bin`, body)));
      const statuses = responses.map((response) => response.status);
      const winner = statuses.indexOf(201);
      assert.ok(winner >= 0, `statuses ${statuses}`);
      assert.ok([409, 429].includes(statuses[1 - winner] as number), `statuses ${statuses}`);
      assert.equal(sha256(readFileSync(join(server.uploadsDir, "race", `${round}.bin`))), sha256(bodies[winner] as Buffer));
    }
    assert.deepEqual(temps(server), []);
  });

  /** A 2 MiB upload to `path` during which, once its temp file exists, `meddle` runs; its answer. */
  async function uploadMeddledWith(path: string, meddle: () => void) {
    const socket = await openSocket(server.url);
    socket.on("error", () => {});
    const answer = readResponse(socket, 10_000);
    socket.write(requestHead("PUT", `/v1/assets/${path}`, { ...server.auth, "Content-Length": 2 * MiB }));
    socket.write(Buffer.alloc(MiB, 1));
    await eventually(() => temps(server).length === 1, 5000, "the temp file exists");
    meddle();
    socket.write(Buffer.alloc(MiB, 2));
    try {
      return await answer;
    } finally {
      socket.destroy();
    }
  }

  test("a destination that another program on the host creates during the upload is never replaced: 409, its bytes kept", async () => {
    // The lock orders SDCI's own uploads; only link() stands between an upload and a file that
    // something else (a cron job, an operator) put there after the checks before the body.
    const { status, body } = await uploadMeddledWith("elsewhere/app.bin", () =>
      writeFileSync(join(server.uploadsDir, "elsewhere", "app.bin"), "put there by another program"),
    );
    assert.equal(status, 409, body);
    assert.equal(JSON.parse(body).type, "urn:sdci:problem:asset-exists");
    assert.equal(readFileSync(join(server.uploadsDir, "elsewhere", "app.bin"), "utf8"), "put there by another program");
    assert.deepEqual(listTree(join(server.uploadsDir, "elsewhere")), ["app.bin"]);
    assert.equal(await busyHolder(server), null);
  });

  test("an uploads folder removed while the server runs (by a task, say) is made again by the next upload", async () => {
    rmSync(server.uploadsDir, { recursive: true, force: true });
    const answer = await put(server, "again/file.txt", "the body");
    assert.equal(answer.status, 201, await answer.clone().text());
    assert.equal(readFileSync(join(server.uploadsDir, "again", "file.txt"), "utf8"), "the body");
  });

  test("a destination folder that another program removes during the upload: 409 with the reason, nothing left, the lock free", async () => {
    const { status, body } = await uploadMeddledWith("vanishing/app.bin", () => rmSync(join(server.uploadsDir, "vanishing"), { recursive: true }));
    assert.equal(status, 409, body);
    assert.match(JSON.parse(body).detail, /removed while the upload arrived/);
    assert.deepEqual(temps(server), []);
    assert.equal(await busyHolder(server), null);
    assert.equal((await put(server, "vanishing/app.bin", "again")).status, 201);
  });

  test("a Content-Digest mismatch gets 422 and leaves nothing; a matching one is accepted", async () => {
    const wrong = await put(server, "digest/bad/file.txt", "the body", { "Content-Digest": contentDigest("another body") });
    assert.equal(wrong.status, 422);
    assert.equal((await wrong.json()).type, "urn:sdci:problem:digest-mismatch");
    assert.deepEqual(listTree(join(server.uploadsDir, "digest")), []);

    const malformed = await put(server, "digest/file.txt", "the body", { "Content-Digest": "sha-256=nope" });
    assert.equal(malformed.status, 400);

    const right = await put(server, "digest/file.txt", "the body", { "Content-Digest": contentDigest("the body") });
    assert.equal(right.status, 201);
    assert.deepEqual(await right.json(), { path: "digest/file.txt", size: 8, sha256: sha256("the body") });
  });

  test("a Content-Digest trailer on a chunked body is verified too", async () => {
    const send = (path: string, digestOf: string) =>
      rawRequest(
        server.url,
        requestHead("PUT", `/v1/assets/${path}`, { ...server.auth, "Transfer-Encoding": "chunked", Trailer: "Content-Digest" }),
        Buffer.concat([encodeChunk(Buffer.from("chunked ")), encodeChunk(Buffer.from("body")), lastChunk({ "Content-Digest": contentDigest(digestOf) })]),
      );
    assert.equal((await send("trailer/bad.txt", "something else")).status, 422);
    assert.deepEqual(listTree(join(server.uploadsDir, "trailer")), []);
    const good = await send("trailer/good.txt", "chunked body");
    assert.equal(good.status, 201, good.body);
    assert.equal(readFileSync(join(server.uploadsDir, "trailer", "good.txt"), "utf8"), "chunked body");
  });

  test("a Content-Digest header and a trailer that disagree: 422, whichever of them is right", async () => {
    const send = (path: string, headerOf: string, trailerOf: string) =>
      rawRequest(
        server.url,
        requestHead("PUT", `/v1/assets/${path}`, {
          ...server.auth,
          "Transfer-Encoding": "chunked",
          Trailer: "Content-Digest",
          "Content-Digest": contentDigest(headerOf),
        }),
        Buffer.concat([encodeChunk(Buffer.from("two claims")), lastChunk({ "Content-Digest": contentDigest(trailerOf) })]),
      );
    for (const [path, headerOf, trailerOf] of [
      ["claims/header-right.txt", "two claims", "another body"],
      ["claims/trailer-right.txt", "another body", "two claims"],
    ] as const) {
      const answer = await send(path, headerOf, trailerOf);
      assert.equal(answer.status, 422, `${path}: ${answer.body}`);
    }
    assert.deepEqual(listTree(join(server.uploadsDir, "claims")), []);
    assert.equal((await send("claims/agree.txt", "two claims", "two claims")).status, 201);
  });

  test("Expect: 100-continue gets its 100 only once the checks pass, and only from HTTP/1.1 (RFC 9110: never to HTTP/1.0)", async () => {
    const sendExpecting = async (version: string, path: string) => {
      const socket = await openSocket(server.url);
      socket.on("error", () => {});
      let received = "";
      socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
      const head = requestHead("PUT", `/v1/assets/${path}`, { ...server.auth, "Content-Length": 5, Expect: "100-continue" });
      socket.write(head.replace("HTTP/1.1", version));
      await sleep(300);
      const early = received;
      socket.write("hello");
      await eventually(() => /HTTP\/1\.1 (?!100)\d{3} /.test(received), 5000, "a final answer");
      socket.destroy();
      return { early, received };
    };
    const modern = await sendExpecting("HTTP/1.1", "expect/one.txt");
    assert.match(modern.early, /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    assert.match(modern.received, /HTTP\/1\.1 201 Created/);
    // Absolute-form, as to a proxy, to a name that exists: the 409 comes with no 100 before it.
    const socket = await openSocket(server.url);
    socket.on("error", () => {});
    let heard = "";
    socket.on("data", (chunk: Buffer) => (heard += chunk.toString("latin1")));
    socket.write(requestHead("PUT", `${server.url}/v1/assets/expect/one.txt`, { ...server.auth, "Content-Length": 5, Expect: "100-continue" }));
    await eventually(() => /HTTP\/1\.1 409 /.test(heard), 5000, "the 409");
    socket.destroy();
    assert.doesNotMatch(heard, /100 Continue/);
    const old = await sendExpecting("HTTP/1.0", "expect/zero.txt");
    assert.equal(old.early, "", "no interim answer to HTTP/1.0");
    assert.match(old.received, /^HTTP\/1\.1 201 Created/);
    assert.equal(readFileSync(join(server.uploadsDir, "expect", "zero.txt"), "utf8"), "hello");
  });

  test("no length, a wrong type or no token: refused before the body, nothing written", async () => {
    const noLength = await rawRequest(server.url, requestHead("PUT", "/v1/assets/refused/a", server.auth));
    assert.equal(noLength.status, 411);
    const wrongType = await put(server, "refused/b", "text", { "Content-Type": "text/plain" });
    assert.equal(wrongType.status, 415);
    const noToken = await rawRequest(server.url, requestHead("PUT", "/v1/assets/refused/c", { "Content-Length": 50 * MiB }), undefined, 5000);
    assert.equal(noToken.status, 401);
    assert.deepEqual(listTree(join(server.uploadsDir, "refused")), []);
  });

  test("an upload while a run holds the lock gets 429, and a run while an upload holds it gets 429", async () => {
    const release = join(server.root, "release-hold");
    const run = await fetch(`${server.url}/v1/tasks/hold/runs`, {
      method: "POST",
      headers: { ...server.auth, "Content-Type": "application/json" },
      body: JSON.stringify({ params: [release] }),
    });
    assert.equal(run.status, 202);
    const duringRun = await put(server, "locked/a.txt", "a");
    assert.equal(duringRun.status, 429);
    assert.ok(duringRun.headers.get("retry-after"));
    writeFileSync(release, "");
    await eventually(async () => (await busyHolder(server)) === null, 10_000, "the run ended");
    assert.deepEqual(listTree(join(server.uploadsDir, "locked")), []);

    const socket = await openSocket(server.url);
    socket.on("error", () => {});
    const answer = readResponse(socket, 10_000);
    socket.write(requestHead("PUT", "/v1/assets/locked/b.txt", { ...server.auth, "Content-Length": 10 }));
    socket.write("01234");
    await eventually(async () => JSON.stringify(await busyHolder(server)) === JSON.stringify({ kind: "upload", id: "locked/b.txt" }), 5000, "the upload holds the lock");
    const duringUpload = await fetch(`${server.url}/v1/tasks/hold/runs`, { method: "POST", headers: server.auth });
    assert.equal(duringUpload.status, 429);
    socket.write("56789");
    assert.equal((await answer).status, 201);
    socket.destroy();
    assert.equal(readFileSync(join(server.uploadsDir, "locked", "b.txt"), "utf8"), "0123456789");
  });
});

describe("upload size limit and idle timeout", () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ args: ["--max-upload-size", "1M", "--upload-idle-timeout", "1"] });
  });

  test("a body that stalls past --upload-idle-timeout is dropped: connection closed, nothing kept, lock free", async () => {
    const socket = await openSocket(server.url);
    socket.on("error", () => {});
    const closed = once(socket, "close");
    socket.write(requestHead("PUT", "/v1/assets/stalled/file.bin", { ...server.auth, "Content-Length": 10 }));
    socket.write("01234");
    await eventually(async () => (await busyHolder(server)) !== null, 5000, "the upload holds the lock");
    await Promise.race([closed, sleep(10_000).then(() => assert.fail("the server kept the stalled connection"))]);
    await eventually(async () => (await busyHolder(server)) === null && temps(server).length === 0, 2000, "lock free and temp removed");
    assert.deepEqual(listTree(server.uploadsDir), []);
  });
  after(() => server.stop());

  test("a body over --max-upload-size gets 413 with and without Content-Length, and leaves nothing", async () => {
    const declared = await rawRequest(server.url, requestHead("PUT", "/v1/assets/big/declared.bin", { ...server.auth, "Content-Length": 2 * MiB }), undefined, 5000);
    assert.equal(declared.status, 413, "refused from Content-Length alone, before the body");

    const socket = await openSocket(server.url);
    socket.on("error", () => {});
    const answer = readResponse(socket, 10_000);
    socket.write(requestHead("PUT", "/v1/assets/big/chunked.bin", { ...server.auth, "Transfer-Encoding": "chunked" }));
    for (let i = 0; i < 4; i++) socket.write(encodeChunk(Buffer.alloc(MiB / 2, i)));
    socket.write(lastChunk());
    assert.equal((await answer).status, 413);
    socket.destroy();

    assert.deepEqual(listTree(server.uploadsDir), []);
    assert.equal(await busyHolder(server), null);
    assert.equal((await put(server, "big/exact.bin", Buffer.alloc(MiB))).status, 201, "exactly the limit is accepted");
  });
});

/**
 * An sdci-server in this process, with a limit of 1 MiB and the given drain bounds for a
 * refused body (which the command line does not offer: 10 s is long for a test).
 */
async function startServerWithDrain(refusedBodyDrain: DrainBounds): Promise<UploadTarget & { stop(): Promise<void> }> {
  const root = mkdtempSync(join(tmpdir(), "sdci-test-"));
  const token = randomBytes(24).toString("base64url");
  mkdirSync(join(root, "tasks"));
  const running = await startServer({
    host: "127.0.0.1",
    port: 0,
    token,
    tasksDir: join(root, "tasks"),
    uploadsDir: join(root, "uploads"),
    dataDir: join(root, "data"),
    taskTimeoutMs: 60_000,
    killGraceMs: 1000,
    keepaliveMs: 15_000,
    maxUploadBytes: MiB,
    maxUploadEntries: 100,
    uploadIdleTimeoutMs: 60_000,
    keepRuns: 10,
    logger: silentLogger,
    refusedBodyDrain,
  });
  return {
    url: running.url,
    auth: { Authorization: `Bearer ${token}` },
    uploadsDir: join(root, "uploads"),
    async stop() {
      await running.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Writes a chunked body on `socket` until the server closes the connection: a chunk of
 * `chunkBytes` every `everyMs` at most, never more than the socket takes. The pause also lets
 * this process read what the server answers meanwhile, as any client that reads while it
 * writes does.
 */
function keepWriting(socket: Socket, chunkBytes: number, everyMs: number): { written(): number } {
  const chunk = encodeChunk(Buffer.alloc(chunkBytes, 1));
  let written = 0;
  void (async () => {
    while (!socket.destroyed) {
      if (!socket.write(chunk)) await Promise.race([once(socket, "drain"), once(socket, "close")]);
      written += chunk.length;
      await sleep(everyMs);
    }
    // The server cutting the connection off is how this ends: the error that comes with it is expected.
  })().catch(() => {});
  return { written: () => written };
}

/** Opens a connection and sends the head of a chunked upload to `path` (a file, unless `headers` say otherwise). */
async function startChunkedUpload(
  server: UploadTarget,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ socket: Socket; closed: Promise<number> }> {
  const socket = await openSocket(server.url);
  socket.on("error", () => {});
  // Not once(): that rejects on the reset with which a server may end the connection.
  const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(performance.now())));
  socket.write(requestHead("PUT", `/v1/assets/${path}`, { ...server.auth, "Transfer-Encoding": "chunked", ...headers }));
  return { socket, closed };
}

describe("a body refused while it is still arriving", () => {
  let byTime: Awaited<ReturnType<typeof startServerWithDrain>>;
  let byBytes: Awaited<ReturnType<typeof startServerWithDrain>>;

  before(async () => {
    byTime = await startServerWithDrain({ ms: 1500, bytes: 1024 * MiB });
    byBytes = await startServerWithDrain({ ms: 60_000, bytes: 8 * MiB });
  });
  after(async () => {
    await byTime.stop();
    await byBytes.stop();
  });

  test("the 413 is readable while the client keeps writing; lock free and nothing on disk meanwhile; closed after the time bound", async () => {
    const { socket, closed } = await startChunkedUpload(byTime, "drained/slow.bin");
    const answer = readResponse(socket, 10_000);
    const writer = keepWriting(socket, 64 * 1024, 10);
    const response = await answer;
    const answeredAt = performance.now();
    assert.equal(response.status, 413);
    assert.equal(JSON.parse(response.body).type, "urn:sdci:problem:payload-too-large");
    assert.equal(response.headers.connection, "close", "the connection will not be reused");

    // The refusal is settled: while the rest of the body is still being read, nothing of it is
    // kept, the lock is free and the server takes the next upload.
    const writtenAtAnswer = writer.written();
    assert.deepEqual(listTree(byTime.uploadsDir), []);
    assert.equal(await busyHolder(byTime), null);
    assert.equal((await put(byTime, "meanwhile/file.bin", "next")).status, 201);
    await sleep(300);
    assert.ok(!socket.destroyed && writer.written() > writtenAtAnswer, "the client could go on writing after the answer");
    assert.deepEqual(temps(byTime), []);

    const lingeredMs = (await closed) - answeredAt;
    assert.ok(lingeredMs > 1000 && lingeredMs < 5000, `closed ${lingeredMs.toFixed(0)} ms after the answer, not at the 1.5 s bound`);
    assert.deepEqual(listTree(byTime.uploadsDir), ["meanwhile", "meanwhile/file.bin"]);
    assert.equal((await put(byTime, "after/file.bin", "still serving")).status, 201);
  });

  test("a folder refused for a bad entry at its start gets its 400 while the archive keeps coming; nothing kept", async () => {
    const { socket, closed } = await startChunkedUpload(byTime, "drained/site", { "Content-Type": "application/x-tar" });
    const answer = readResponse(socket, 10_000);
    socket.write(encodeChunk(await makeTar([{ header: { name: "link", type: "symlink", linkname: "elsewhere" } }])));
    const writer = keepWriting(socket, 64 * 1024, 10);
    const response = await answer;
    assert.equal(response.status, 400);
    assert.match(JSON.parse(response.body).detail, /'link' is a symlink/);
    assert.equal(response.headers.connection, "close");
    const writtenAtAnswer = writer.written();
    assert.deepEqual(listTree(join(byTime.uploadsDir, "drained")), [], "no temp folder, no partial folder");
    assert.equal(await busyHolder(byTime), null);
    await sleep(300);
    assert.ok(!socket.destroyed && writer.written() > writtenAtAnswer, "the client could go on writing after the answer");
    await closed;
  });

  test("a client that sends without end is cut off after the byte bound", async () => {
    const { socket, closed } = await startChunkedUpload(byBytes, "drained/fast.bin");
    const answer = readResponse(socket, 10_000);
    const writer = keepWriting(socket, 256 * 1024, 1);
    assert.equal((await answer).status, 413);
    const writtenAtAnswer = writer.written();
    const closedAt = await Promise.race([closed, sleep(15_000).then(() => assert.fail("not cut off within 15 s"))]);
    // What the server read (8 MiB) plus what the two socket buffers held when it stopped.
    const afterAnswer = writer.written() - writtenAtAnswer;
    assert.ok(afterAnswer < 40 * MiB, `the server read ${afterAnswer} bytes after its answer`);
    assert.ok(closedAt > 0);
    assert.deepEqual(listTree(byBytes.uploadsDir), []);
    assert.equal(await busyHolder(byBytes), null);
  });

  test("a client that ends its body after the answer gets a prompt close, not the whole bound", async () => {
    const { socket, closed } = await startChunkedUpload(byBytes, "drained/ended.bin");
    const answer = readResponse(socket, 10_000);
    for (let i = 0; i < 4; i++) socket.write(encodeChunk(Buffer.alloc(MiB / 2, i)));
    assert.equal((await answer).status, 413);
    const answeredAt = performance.now();
    socket.write(lastChunk());
    const closedAt = await Promise.race([closed, sleep(10_000).then(() => assert.fail("still open 10 s after the body ended"))]);
    assert.ok(closedAt - answeredAt < 2000, `closed ${(closedAt - answeredAt).toFixed(0)} ms after the answer`);
    assert.deepEqual(listTree(byBytes.uploadsDir), []);
  });
});
