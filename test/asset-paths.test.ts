import assert from "node:assert/strict";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { listTree } from "./helpers/files.js";
import { rawRequest, requestHead } from "./helpers/raw-http.js";
import { type TestServer, startTestServer } from "./helpers/server.js";

/** Each destination as it goes on the wire after `/v1/assets/`, still encoded. */
const BAD_DESTINATIONS: Record<string, string> = {
  "../x": "../x",
  "..%2Fx": "..%2Fx",
  "%2e%2e/x": "%2e%2e/x",
  "%2E%2E%2Fx": "%2E%2E%2Fx",
  "..%252fx": "..%252fx",
  "..\\x (raw backslash)": "..\\x",
  "..%5Cx": "..%5Cx",
  "/etc/x (doubled slash)": "/etc/x",
  "%2Fetc%2Fx": "%2Fetc%2Fx",
  "x%00y": "x%00y",
  "./x": "./x",
  "%2e/x": "%2e/x",
  "a/..": "a/..",
  "a//b": "a//b",
  "a%2F%2Fb": "a%2F%2Fb",
  "trailing slash a/": "a/",
  "300-byte segment": "a".repeat(300),
  "control character %01": "a%01b",
  "escape %1b": "a%1b[31mb",
  "CR LF": "a%0d%0ab",
  "DEL %7f": "a%7fb",
  "fullwidth dots": "%EF%BC%8E%EF%BC%8E/x",
  "fullwidth dots with %2F": "%EF%BC%8E%EF%BC%8E%2Fx",
  "one-dot leader": "%E2%80%A5/x",
  "invalid UTF-8": "a%ffb",
  "broken escape": "a%zzb",
  "leading dash": "-rf",
  "hidden name": ".env",
  "temp prefix": ".sdci-upload-x",
  space: "a%20b",
};

describe("upload destinations", () => {
  let server: TestServer;
  let outside: string;

  before(async () => {
    server = await startTestServer();
    outside = join(server.root, "outside");
    mkdirSync(outside);
    mkdirSync(join(server.uploadsDir, "releases"), { recursive: true });
    symlinkSync(outside, join(server.uploadsDir, "escape"));
    symlinkSync(join(server.uploadsDir, "releases"), join(server.uploadsDir, "inside"));
    writeFileSync(join(server.root, "secret"), "keep me\n");
    symlinkSync(join(server.root, "secret"), join(server.uploadsDir, "secret-link"));
  });
  after(() => server.stop());

  const put = (encodedPath: string, body = "hello") =>
    rawRequest(
      server.url,
      requestHead("PUT", `/v1/assets/${encodedPath}`, { ...server.auth, "Content-Length": Buffer.byteLength(body) }),
      Buffer.from(body),
    );

  test("every traversal, encoding trick, control character or odd name gets 400 and creates nothing", async () => {
    const before = listTree(server.uploadsDir);
    for (const [label, encoded] of Object.entries(BAD_DESTINATIONS)) {
      const response = await put(encoded);
      assert.equal(response.status, 400, `${label}: ${response.status} ${response.body}`);
    }
    assert.deepEqual(listTree(server.uploadsDir), before);
    assert.deepEqual(listTree(outside), []);
    assert.deepEqual(listTree(join(server.root, "..")).filter((path) => path === "x"), []);
    const status = await fetch(`${server.url}/v1/status`, { headers: server.auth });
    assert.deepEqual((await status.json()).busy, null);
  });

  test("a percent-encoded /v1/assets/ prefix gets a 400 that says so, not 'the destination path is empty'", async () => {
    const response = await rawRequest(
      server.url,
      requestHead("PUT", "/v1/%61ssets/x.txt", { ...server.auth, "Content-Length": 5 }),
      Buffer.from("hello"),
    );
    assert.equal(response.status, 400, response.body);
    assert.match(JSON.parse(response.body).detail, /write the path's \/v1\/assets\/ as it is, not percent-encoded/);
    assert.deepEqual(listTree(server.uploadsDir).filter((path) => path === "x.txt"), []);
  });

  test("a refused destination answers problem+json that says why", async () => {
    const response = await put("a%01b");
    assert.equal(response.headers["content-type"], "application/problem+json");
    const problem = JSON.parse(response.body);
    assert.equal(problem.type, "urn:sdci:problem:invalid-request");
    assert.match(problem.detail, /destination path/);
  });

  test("a symlink inside the uploads folder that leads outside is not followed", async () => {
    const response = await put("escape/x");
    assert.equal(response.status, 400, response.body);
    assert.match(JSON.parse(response.body).detail, /leads outside/);
    assert.deepEqual(listTree(outside), []);
  });

  test("an existing symlink as the destination is never written through", async () => {
    const response = await put("secret-link");
    assert.equal(response.status, 409, response.body);
    assert.equal(readFileSync(join(server.root, "secret"), "utf8"), "keep me\n");
  });

  test("a symlink that stays inside the uploads folder leads to its target", async () => {
    const response = await put("inside/through-link.txt");
    assert.equal(response.status, 201, response.body);
    assert.equal(readFileSync(join(server.uploadsDir, "releases", "through-link.txt"), "utf8"), "hello");
  });

  test("slashes may be sent raw or as %2F (as the generated client sends them)", async () => {
    assert.equal((await put("a/b/raw.txt")).status, 201);
    assert.equal((await put("a%2Fb%2Fencoded.txt")).status, 201);
    assert.deepEqual(listTree(join(server.uploadsDir, "a", "b")), ["encoded.txt", "raw.txt"]);
  });

  test("a file where a parent folder should be is a 409, and nothing is created", async () => {
    assert.equal((await put("plain.txt")).status, 201);
    const response = await put("plain.txt/below");
    assert.equal(response.status, 409, response.body);
    assert.deepEqual(listTree(join(server.uploadsDir)).filter((path) => path.startsWith("plain.txt/")), []);
  });
});
