import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { listTree } from "./helpers/files.js";
import { startTestServer } from "./helpers/server.js";
import { makeTar } from "./helpers/tar.js";

/** Mounts a 2 MiB tmpfs as the uploads folder; needs root (as in CI), else the test is skipped. */
function mountSmallDisk(dir: string): boolean {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

test("a full disk gets 507 and leaves nothing, for a file and a folder", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "sdci-full-"));
  const uploads = join(root, "uploads");
  mkdirSync(uploads);
  if (!mountSmallDisk(uploads)) {
    rmSync(root, { recursive: true, force: true });
    t.skip("cannot mount a small tmpfs here (needs root)");
    return;
  }
  const server = await startTestServer({ root, keep: true });
  try {
    const put = (path: string, body: Buffer, type: string) =>
      fetch(`${server.url}/v1/assets/${path}`, { method: "PUT", body: new Uint8Array(body), headers: { ...server.auth, "Content-Type": type } });
    const file = await put("full/file.bin", Buffer.alloc(4 * 1024 * 1024, 1), "application/octet-stream");
    assert.equal(file.status, 507);
    assert.equal((await file.json()).type, "urn:sdci:problem:insufficient-storage");
    const tar = await makeTar([{ header: { name: "a.bin" }, data: Buffer.alloc(1024 * 1024, 2) }, { header: { name: "b.bin" }, data: Buffer.alloc(2 * 1024 * 1024, 3) }]);
    assert.equal((await put("full/folder", tar, "application/x-tar")).status, 507);
    assert.deepEqual(listTree(uploads), []);
    assert.equal((await put("small.txt", Buffer.from("fits"), "application/octet-stream")).status, 201);
  } finally {
    await server.stop();
    execFileSync("umount", [uploads]);
    rmSync(root, { recursive: true, force: true });
  }
});
