// A server that is stopping (SIGTERM, as systemd sends on stop or restart) starts nothing new
// and tells an upload it cuts why, rather than dropping the connection under it.
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { request } from "node:http";
import { createConnection } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { openSocket, readResponse, requestHead } from "./helpers/raw-http.js";
import { startTestServer } from "./helpers/server.js";
import { alive, waitFor } from "./helpers/wait.js";

test("a run asked for on an open connection while the server stops gets 503, and no task starts to outlive the server", async () => {
  const server = await startTestServer({ tasks: { lingering: 'echo $$ > "$1"; exec sleep 60' } });
  const pidFile = join(server.root, "pid");
  try {
    // A request already begun is not an idle connection, so stopping waits for it a moment.
    const socket = await openSocket(server.url);
    const body = JSON.stringify({ params: [pidFile] });
    const head = requestHead("POST", "/v1/tasks/lingering/runs", {
      Authorization: server.auth.Authorization,
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(body),
    });
    socket.write(head.slice(0, 20));
    await sleep(200);
    server.process.kill("SIGTERM");
    assert.ok(await waitFor(() => /"msg":"stopping"/.test(server.output()), 5000), "the server began to stop");
    socket.write(head.slice(20) + body);
    const answer = await readResponse(socket);
    assert.equal(answer.status, 503, answer.body);
    assert.equal(answer.headers["content-type"], "application/problem+json");
    assert.match(JSON.parse(answer.body).detail, /stopping/);
    const [code] = (await once(server.process, "exit")) as [number];
    assert.equal(code, 0);
    await sleep(200);
    assert.equal(existsSync(pidFile), false, "the task must not have started");
    socket.destroy();
  } finally {
    // Before the fix the task did start, and outlived the server: do not leave it behind.
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) : 0;
    if (pid && alive(pid)) process.kill(pid, "SIGKILL");
    await server.stop();
  }
});

test("an upload cut short by a stopping server gets 503 with the reason, and leaves no file and no temp file", async () => {
  const server = await startTestServer();
  try {
    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(256 * 1024, 7);
    const upload = request(`${server.url}/v1/assets/releases/app.bin`, {
      method: "PUT",
      headers: { ...server.auth, "Content-Type": "application/octet-stream", "Content-Length": total },
    });
    upload.on("error", () => {}); // the server may close while this side still writes
    const answered = once(upload, "response") as Promise<[import("node:http").IncomingMessage]>;
    let sent = 0;
    let stopped = false;
    // Sends slowly, so the upload is still arriving when the server is told to stop.
    const sender = (async () => {
      while (sent < total && !upload.destroyed) {
        upload.write(chunk);
        sent += chunk.length;
        if (sent === 4 * chunk.length) {
          server.process.kill("SIGTERM");
          stopped = true;
        }
        await sleep(20);
      }
    })();
    const [response] = await answered;
    assert.ok(stopped, "the answer came before the server was stopped");
    let text = "";
    for await (const part of response) text += part;
    assert.equal(response.statusCode, 503, text);
    assert.equal(response.headers["content-type"], "application/problem+json");
    assert.match(JSON.parse(text).detail, /stopping/);
    upload.destroy();
    await sender;
    const [code] = (await once(server.process, "exit")) as [number];
    assert.equal(code, 0);
    const releases = join(server.uploadsDir, "releases");
    assert.deepEqual(existsSync(releases) ? readdirSync(releases) : [], [], "nothing may be left of the upload");
  } finally {
    await server.stop();
  }
});

test("a client that never closes its side after an answered CONNECT or malformed request does not keep the server from stopping", { timeout: 20_000 }, async () => {
  const server = await startTestServer();
  const sockets: import("node:net").Socket[] = [];
  try {
    for (const request of ["CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n", "GARBAGE\r\n\r\n"]) {
      const { hostname, port } = new URL(server.url);
      const socket = createConnection({ host: hostname, port: Number(port), allowHalfOpen: true });
      socket.on("error", () => {});
      sockets.push(socket);
      let answer = "";
      socket.on("data", (chunk: Buffer) => (answer += chunk.toString("latin1")));
      socket.write(request);
      await once(socket, "end");
      assert.match(answer, /^HTTP\/1\.1 4\d\d /);
    }
    const signalled = performance.now();
    server.process.kill("SIGTERM");
    const [code] = (await once(server.process, "exit")) as [number];
    assert.equal(code, 0);
    assert.ok(performance.now() - signalled < 4000, `the server took ${Math.round(performance.now() - signalled)} ms to stop`);
  } finally {
    for (const socket of sockets) socket.destroy();
    await server.stop();
  }
});
