import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { listTree } from "./helpers/files.js";
import { encodeChunk, openSocket, requestHead } from "./helpers/raw-http.js";
import { type TestServer, startTestServer } from "./helpers/server.js";
import { makeTar } from "./helpers/tar.js";

const isTemp = (path: string) => path.split("/").some((part) => part.startsWith(".sdci-upload-"));

/** Starts an upload, sends part of its body, and SIGKILLs the server once its temp file or folder exists. */
async function killDuringUpload(server: TestServer, target: string, headers: Record<string, string | number>, part: Buffer) {
  const socket = await openSocket(server.url);
  socket.on("error", () => {});
  socket.write(requestHead("PUT", target, { ...server.auth, ...headers }));
  socket.write(part);
  const deadline = Date.now() + 10_000;
  while (!listTree(server.uploadsDir).some(isTemp)) {
    assert.ok(Date.now() < deadline, "the upload never started");
    await sleep(20);
  }
  await sleep(200);
  server.process.kill("SIGKILL");
  await server.stop();
  socket.destroy();
}

test("temp files and folders left by a killed server, and the folders made for them, are gone after the next start; nothing else is touched", async () => {
  const root = mkdtempSync(join(tmpdir(), "sdci-restart-"));
  try {
    let server = await startTestServer({ root, keep: true });
    mkdirSync(join(server.uploadsDir, "releases", "v0"), { recursive: true });
    writeFileSync(join(server.uploadsDir, "releases", "v0", "app.bin"), "an earlier release");
    mkdirSync(join(server.uploadsDir, "made", "empty", "by-hand"), { recursive: true });

    const tar = await makeTar(Array.from({ length: 20 }, (_, i) => ({ header: { name: `site/f${i}.txt` }, data: "x".repeat(10_000) })));
    await killDuringUpload(
      server,
      "/v1/assets/releases/v1/site",
      { "Content-Type": "application/x-tar", "Transfer-Encoding": "chunked" },
      encodeChunk(tar.subarray(0, tar.length / 2)),
    );
    const folderLeft = listTree(join(root, "uploads"));
    assert.ok(folderLeft.some((path) => /^releases\/v1\/\.sdci-upload-[^/]+\/site\/f0\.txt$/.test(path)), `a temp folder was left: ${folderLeft}`);

    server = await startTestServer({ root, keep: true });
    assert.deepEqual(listTree(server.uploadsDir).filter(isTemp), [], "the next start removed the temp folder");
    await killDuringUpload(server, "/v1/assets/releases/v2/app.bin", { "Content-Length": 4 * 1024 * 1024 }, Buffer.alloc(1024 * 1024, 1));
    const fileLeft = listTree(join(root, "uploads"));
    assert.ok(fileLeft.some((path) => /^releases\/v2\/\.sdci-upload-[^/]+$/.test(path)), `a temp file was left: ${fileLeft}`);

    server = await startTestServer({ root, keep: true });
    try {
      // An empty releases/v2 left behind would look like an (empty) release to a deploy task.
      assert.deepEqual(listTree(server.uploadsDir).sort(), [
        "made",
        "made/empty",
        "made/empty/by-hand",
        "releases",
        "releases/v0",
        "releases/v0/app.bin",
      ]);
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
