// The server's token must be one a client can send: `Authorization: Bearer <token>` carries
// one word of visible ASCII. A token file is read as far as its first line, never whole.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startTestServer } from "./helpers/server.js";
import { runServerCommand } from "./helpers/systemd.js";

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), "sdci-token-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

const serve = (args: string[], token?: string) =>
  runServerCommand(["serve", "--port", "0", "--tasks-dir", work, "--uploads-dir", join(work, "u"), "--data-dir", join(work, "d"), ...args], {
    env: { SDCI_SERVER_TOKEN: token },
  });

test("a token no client could send is refused at start in one line that does not show it; a non-ASCII one is warned of", async () => {
  const file = join(work, "spaced");
  writeFileSync(file, "abc def ghi jkl mno pqr\n");
  for (const [what, args, token] of [
    ["a blank, from a file", ["--server-token-file", file], undefined],
    ["a control character", [], "token\u0001token-0123456789"],
  ] as const) {
    const result = await serve([...args], token);
    assert.equal(result.code, 1, `${what}: ${result.stdout}`);
    assert.match(result.stderr, /^sdci-server: the server token holds a blank or a control character[^\n]*\n$/, what);
    assert.doesNotMatch(result.stderr, /abc def|token\u0001/);
  }
  // Earlier versions took it, and a Latin-1 client can send it: an installed service keeps starting.
  const server = await startTestServer({ token: "tökentökentökentöken" });
  try {
    assert.match(server.output(), /warning: the server token holds a non-ASCII character, which sdci-cli and most HTTP clients cannot send/);
  } finally {
    await server.stop();
  }
});

test("a token file whose first line is empty says so, not that no token was given", async () => {
  const file = join(work, "blank-first");
  writeFileSync(file, "\nsecond-line-token-0123456789\n");
  const result = await serve(["--server-token-file", file], "an-env-token-0123456789");
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `sdci-server: the first line of the token file ${file} is empty\n`);
});

test("only the first line of a token file is read: a huge file after it costs nothing, a first line without end is refused", async () => {
  const big = join(work, "big");
  writeFileSync(big, `a-token-0123456789abcdef\n${"x".repeat(64 * 1024 * 1024)}`);
  const server = await startTestServer({ token: "a-token-0123456789abcdef", args: ["--server-token-file", big], env: { SDCI_SERVER_TOKEN: undefined } });
  try {
    assert.equal((await fetch(`${server.url}/v1/status`, { headers: server.auth })).status, 200);
  } finally {
    await server.stop();
  }
  const endless = await serve(["--server-token-file", "/dev/zero"]);
  assert.equal(endless.code, 1);
  assert.match(endless.stderr, /^sdci-server: the token file \/dev\/zero has a first line longer than 4096 bytes\n$/);
});

test("a token file that is a pipe giving its line in pieces is read to the line's end", async () => {
  const fifo = join(work, "fifo");
  execFileSync("mkfifo", [fifo]);
  // The writer pauses in the middle of the token, as a slow vault client (`<(pass show sdci)`) may.
  const writer = spawn("sh", ["-c", `exec 3>"$0"; printf abcdefghijklmnop >&3; sleep 0.5; printf 'qrstuvwxyz0123\\n' >&3`, fifo]);
  const server = await startTestServer({ token: "abcdefghijklmnopqrstuvwxyz0123", args: ["--server-token-file", fifo], env: { SDCI_SERVER_TOKEN: undefined } });
  try {
    assert.equal((await fetch(`${server.url}/v1/status`, { headers: server.auth })).status, 200, "the whole line is the token");
    assert.equal((await fetch(`${server.url}/v1/status`, { headers: { Authorization: "Bearer abcdefghijklmnop" } })).status, 401);
  } finally {
    writer.kill();
    await server.stop();
  }
});
