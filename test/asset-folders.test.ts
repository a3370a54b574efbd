import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { contentDigest, listTree, sha256 } from "./helpers/files.js";
import { setTimeout as sleep } from "node:timers/promises";
import { encodeChunk, lastChunk, openSocket, rawRequest, requestHead } from "./helpers/raw-http.js";
import { type TestServer, runCli, startTestServer } from "./helpers/server.js";
import { MTIME_FIELD, type TarEntry, makeTar, withHeaderField } from "./helpers/tar.js";

function putTar(server: TestServer, path: string, tar: Buffer, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/v1/assets/${path}`, {
    method: "PUT",
    body: new Uint8Array(tar),
    headers: { ...server.auth, "Content-Type": "application/x-tar", ...headers },
  });
}

describe("folder uploads", () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ args: ["--max-upload-entries", "2000"] });
    mkdirSync(join(server.root, "outside"));
    writeFileSync(join(server.root, "outside", "secret"), "keep me\n");
  });
  after(() => server.stop());

  test("a folder of 1,000 files round-trips byte-identical through sdci-cli", async () => {
    const local = join(server.root, "build");
    const expected = new Map<string, string>();
    for (let i = 0; i < 1000; i++) {
      const name = `part-${i % 10}/${i % 3 === 0 ? "deeper/" : ""}file-${i}.bin`;
      const data = randomBytes(i % 7 === 0 ? 0 : (i * 37) % 20_000);
      mkdirSync(join(local, name, ".."), { recursive: true });
      writeFileSync(join(local, name), data);
      expected.set(name, sha256(data));
    }
    mkdirSync(join(local, "empty folder"));
    writeFileSync(join(local, "café & spaces.txt"), "unicode name\n");
    writeFileSync(join(local, "run.sh"), "#!/bin/sh\necho hi\n");
    chmodSync(join(local, "run.sh"), 0o755);

    const result = await runCli(["upload-asset", server.url, local, "releases/v1"], { SDCI_TOKEN: server.token });
    assert.equal(result.code, 0, result.stderr);
    const landed = join(server.uploadsDir, "releases", "v1", "build");
    assert.deepEqual(listTree(landed), listTree(local));
    for (const [name, digest] of expected) assert.equal(sha256(readFileSync(join(landed, name))), digest, name);
    assert.equal(readFileSync(join(landed, "café & spaces.txt"), "utf8"), "unicode name\n");
    assert.equal(statSync(join(landed, "run.sh")).mode & 0o777, 0o755);
    assert.deepEqual(listTree(join(server.uploadsDir, "releases", "v1")).filter((path) => path.includes(".sdci-upload-")), []);
  });

  const deep = "d/".repeat(10_000);
  const hostile: Record<string, TarEntry[]> = {
    "../evil": [{ header: { name: "../evil" }, data: "x" }],
    "a/../../evil": [{ header: { name: "ok.txt" }, data: "fine" }, { header: { name: "a/../../evil" }, data: "x" }],
    "/abs": [{ header: { name: "/abs" }, data: "x" }],
    "a symlink followed by a file through it": [
      { header: { name: "link", type: "symlink", linkname: "../../../outside" } },
      { header: { name: "link/planted" }, data: "x" },
    ],
    "a hardlink to outside": [{ header: { name: "hard", type: "link", linkname: "../../../outside/secret" } }],
    "10,000-deep nesting in one name": [{ header: { name: `${deep}f` }, data: "x" }],
    "folder entries nested 200 deep": Array.from({ length: 200 }, (_, i) => ({ header: { name: "d/".repeat(i + 1), type: "directory" as const } })),
    "a character device": [{ header: { name: "null", type: "character-device", devmajor: 1, devminor: 3 } }],
    "a fifo": [{ header: { name: "pipe", type: "fifo" } }],
    "a file twice": [{ header: { name: "twice" }, data: "one" }, { header: { name: "twice" }, data: "two" }],
    "a folder where a file is": [{ header: { name: "f" }, data: "file" }, { header: { name: "f/g" }, data: "below a file" }],
    "the reserved temp prefix": [{ header: { name: ".sdci-upload-x" }, data: "x" }],
    // Within the limits on names (255 bytes a part, 4,096 in all), but longer than the server's
    // file system takes once it sits below the uploads folder.
    "a name too long for the file system": [{ header: { name: Array.from({ length: 16 }, () => "n".repeat(255)).join("/") }, data: "x" }],
  };

  for (const [label, entries] of Object.entries(hostile)) {
    test(`an archive with ${label} is refused whole: nothing outside, no partial folder`, async () => {
      const before = listTree(server.root);
      const response = await putTar(server, "evil/site", await makeTar(entries));
      assert.equal(response.status, 400, await response.text());
      assert.deepEqual(listTree(server.root), before);
      assert.equal(readFileSync(join(server.root, "outside", "secret"), "utf8"), "keep me\n");
    });
  }

  test("a header whose modification time is not a number is refused and leaves nothing", async () => {
    const before = listTree(server.root);
    const tar = withHeaderField(await makeTar([{ header: { name: "when.txt" }, data: "x" }]), 0, MTIME_FIELD, "not a time!");
    const response = await putTar(server, "evil/mtime", tar);
    assert.equal(response.status, 400, await response.text());
    assert.deepEqual(listTree(server.root), before);
  });

  test("bytes that are not a tar archive, or one cut short, are refused and leave nothing", async () => {
    const before = listTree(server.root);
    const garbage = await putTar(server, "evil/garbage", randomBytes(4096));
    assert.equal(garbage.status, 400);
    assert.match((await garbage.json()).detail, /not a valid tar archive/);
    const whole = await makeTar([{ header: { name: "a.txt" }, data: "a".repeat(5000) }, { header: { name: "b.txt" }, data: "b" }]);
    const cut = await putTar(server, "evil/cut", whole.subarray(0, 2048));
    assert.equal(cut.status, 400);
    // Cut where an entry ends, as a packer that died between two files leaves it: each entry
    // is whole, only the end-of-archive marker (two blocks of zeros) is missing.
    const five = await makeTar(Array.from({ length: 5 }, (_, i) => ({ header: { name: `f${i}.txt` }, data: "x".repeat(100) })));
    const betweenEntries = await putTar(server, "evil/between", five.subarray(0, 2 * 1024));
    assert.equal(betweenEntries.status, 400);
    assert.match((await betweenEntries.json()).detail, /ends without its end-of-archive marker/);
    const nothing = await putTar(server, "evil/nothing", Buffer.alloc(0));
    assert.equal(nothing.status, 400);
    assert.deepEqual(listTree(server.root), before);
    const emptyFolder = await putTar(server, "fine/empty", await makeTar([]));
    assert.equal(emptyFolder.status, 201, "an empty folder, packed whole, is fine");
  });

  test("a client that leaves halfway through an archive leaves no folder, no temp folder and a free lock", async () => {
    const tar = await makeTar(Array.from({ length: 40 }, (_, i) => ({ header: { name: `f${i}.bin` }, data: randomBytes(50_000) })));
    const socket = await openSocket(server.url);
    socket.on("error", () => {});
    socket.write(requestHead("PUT", "/v1/assets/gone/site", { ...server.auth, "Content-Type": "application/x-tar", "Transfer-Encoding": "chunked" }));
    socket.write(encodeChunk(tar.subarray(0, tar.length / 2)));
    const temp = () => listTree(join(server.uploadsDir, "gone")).filter((path) => path.startsWith(".sdci-upload-"));
    for (let waited = 0; !temp().some((path) => path.endsWith("/f10.bin")); waited += 20) {
      assert.ok(waited < 10_000, "the extraction never started");
      await sleep(20);
    }
    socket.destroy();
    const deadline = Date.now() + 2000;
    for (;;) {
      const status = await (await fetch(`${server.url}/v1/status`, { headers: server.auth })).json();
      if (listTree(server.uploadsDir).filter((path) => path.startsWith("gone")).length === 0 && status.busy === null) break;
      assert.ok(Date.now() < deadline, `left behind: ${listTree(join(server.uploadsDir, "gone"))}`);
      await sleep(20);
    }
  });

  test("an existing folder gets 409 before the archive is read", async () => {
    assert.equal((await putTar(server, "taken/site", await makeTar([{ header: { name: "a" }, data: "a" }]))).status, 201);
    const response = await rawRequest(
      server.url,
      requestHead("PUT", "/v1/assets/taken/site", { ...server.auth, "Content-Type": "application/x-tar", "Transfer-Encoding": "chunked" }),
      undefined,
      5000,
    );
    assert.equal(response.status, 409);
    assert.deepEqual(listTree(join(server.uploadsDir, "taken")), ["site", "site/a"]);
  });

  test("a wrong Content-Digest trailer on a folder gets 422 and leaves nothing", async () => {
    const tar = await makeTar([{ header: { name: "index.html" }, data: "<h1>hi</h1>" }]);
    const send = (path: string, digest: string) =>
      rawRequest(
        server.url,
        requestHead("PUT", `/v1/assets/${path}`, { ...server.auth, "Content-Type": "application/x-tar", "Transfer-Encoding": "chunked" }),
        Buffer.concat([encodeChunk(tar), lastChunk({ "Content-Digest": digest })]),
      );
    assert.equal((await send("digest/bad", contentDigest("other"))).status, 422);
    assert.deepEqual(listTree(join(server.uploadsDir, "digest")), []);
    const good = await send("digest/good", contentDigest(tar));
    assert.equal(good.status, 201);
    assert.deepEqual(JSON.parse(good.body), { path: "digest/good", size: tar.length, sha256: sha256(tar) });
    assert.equal(readFileSync(join(server.uploadsDir, "digest", "good", "index.html"), "utf8"), "<h1>hi</h1>");
  });
});

describe("folder upload limits", () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ args: ["--max-upload-size", "64K", "--max-upload-entries", "50"] });
  });
  after(() => server.stop());

  test("an archive over the size or entry limit is refused and leaves nothing", async () => {
    const big = await makeTar([{ header: { name: "big.bin" }, data: randomBytes(100_000) }]);
    const tooLarge = await putTar(server, "limits/big", big);
    assert.equal(tooLarge.status, 413);
    const many = await makeTar(Array.from({ length: 51 }, (_, i) => ({ header: { name: `f${i}` }, data: "x" })));
    const tooMany = await putTar(server, "limits/many", many);
    assert.equal(tooMany.status, 400);
    assert.match((await tooMany.json()).detail, /more than 50 entries/);
    assert.deepEqual(listTree(server.uploadsDir), []);
    const fits = await makeTar(Array.from({ length: 50 }, (_, i) => ({ header: { name: `f${i}` }, data: "x" })));
    assert.equal((await putTar(server, "limits/fits", fits)).status, 201);
  });
});
