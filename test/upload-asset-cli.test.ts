import assert from "node:assert/strict";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { listTree, writeRandomFile, writeSparseFile } from "./helpers/files.js";
import { type TestServer, cliBin, runCli, startCli, startTestServer } from "./helpers/server.js";
import { waitFor } from "./helpers/wait.js";

const run = promisify(execFile);
const MiB = 1024 * 1024;

/** Runs the CLI on a pseudo-terminal (util-linux `script`), as a person at a terminal would. */
async function runCliOnTerminal(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const command = [process.execPath, cliBin, ...args].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(" ");
  const { stdout } = await run("script", ["-qfec", command, "/dev/null"], { env: { ...process.env, ...env, COLUMNS: "100" } });
  return stdout;
}

function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split("\n").filter((line) => line.startsWith("sdci-cli:"));
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0] as string, pattern);
  assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
}

describe("sdci-cli upload-asset", () => {
  let server: TestServer;
  let file: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    server = await startTestServer({
      tasks: { hold: 'while [ ! -e "$1" ]; do sleep 0.05; done' },
      args: ["--max-upload-size", "32M"],
    });
    file = join(server.root, "app.bin");
    await writeRandomFile(file, 24 * MiB);
    env = { SDCI_TOKEN: server.token };
  });
  after(() => server.stop());

  test("on a terminal it draws a progress bar with bytes, rate and ETA that ends at 100%", async () => {
    const screen = await runCliOnTerminal(["upload-asset", server.url, file, "tty"], env);
    assert.match(screen, /\ruploading app\.bin \[[#-]+\] +\d+% [\d.]+ \w+\/24\.0 MiB [\d.]+ \w+\/s (ETA|in) /);
    assert.match(screen, /\[#+\] 100% 24\.0 MiB\/24\.0 MiB .*\/s in \d+:\d\d/);
    assert.match(screen, /uploaded tty\/app\.bin \(24\.0 MiB, sha256 [0-9a-f]{64}\)/);
  });

  test("piped, it prints plain progress lines, and 100% only once the server has confirmed", async () => {
    const result = await runCli(["upload-asset", server.url, file, "piped"], env);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /\r|\x1b\[/);
    const lines = result.stderr.trimEnd().split("\n");
    assert.ok(lines.length >= 2, result.stderr);
    for (const line of lines.slice(0, -1)) assert.match(line, /^uploading app\.bin: \d{1,2}% \(/);
    assert.match(lines.at(-1) as string, /^uploading app\.bin: 100% \(24\.0 MiB of 24\.0 MiB, .*\/s\)$/);
    assert.match(result.stdout, /^uploaded piped\/app\.bin \(24\.0 MiB, sha256 [0-9a-f]{64}\)\n$/);
  });

  test("an existing destination: one line, nothing sent, the file unchanged", async () => {
    assert.equal((await runCli(["upload-asset", server.url, file, "twice"], env)).code, 0);
    const again = await runCli(["upload-asset", server.url, file, "twice"], env);
    assert.equal(again.code, 1);
    assertOneLine(again.stderr, /'twice\/app\.bin' already exists on .*choose another REMOTE_PATH/);
    assert.doesNotMatch(again.stderr, /%/, "no progress for an upload that was refused before its body");
  });

  test("a file where REMOTE_PATH needs a folder: the server's own words, not 'already exists'", async () => {
    const empty = join(server.root, "empty.txt");
    writeFileSync(empty, "");
    assert.equal((await runCli(["upload-asset", server.url, empty, "r1"], env)).code, 0);
    const result = await runCli(["upload-asset", server.url, empty, "r1/empty.txt"], env);
    assert.equal(result.code, 1);
    assertOneLine(result.stderr, /'r1\/empty\.txt' exists on the server and is not a folder/);
    assert.doesNotMatch(result.stderr, /already exists/);
  });

  test("a bad remote path: one line from the CLI, before anything is sent", async () => {
    const dots = await runCli(["upload-asset", server.url, file, "a/../b"], env);
    assert.equal(dots.code, 1);
    assertOneLine(dots.stderr, /REMOTE_PATH may not contain '\.\.'/);
    const odd = await runCli(["upload-asset", server.url, file, "--", "-rf"], env);
    assert.equal(odd.code, 1);
    assertOneLine(odd.stderr, /REMOTE_PATH '-rf' would be refused by the server \('-rf': each part may hold only/);
    assert.deepEqual(listTree(server.uploadsDir).filter((path) => /^(a|b|-rf)(\/|$)/.test(path)), []);
  });

  test("a busy server: one line that says so", async () => {
    const release = join(server.root, "release");
    const started = await fetch(`${server.url}/v1/tasks/hold/runs`, {
      method: "POST",
      headers: { ...server.auth, "Content-Type": "application/json" },
      body: JSON.stringify({ params: [release] }),
    });
    assert.equal(started.status, 202);
    try {
      const result = await runCli(["upload-asset", server.url, file, "busy"], env);
      assert.equal(result.code, 1);
      assertOneLine(result.stderr, /is busy with another run or upload; try again in \d+ s/);
    } finally {
      writeFileSync(release, "");
    }
  });

  test("too large, for a file (from its length) and a folder (while it streams): one line, nothing kept", async () => {
    const large = join(server.root, "large.bin");
    await writeRandomFile(large, 40 * MiB);
    const asFile = await runCli(["upload-asset", server.url, large, "large"], env);
    assert.equal(asFile.code, 1);
    assertOneLine(asFile.stderr, /too large for .*at most 33554432 bytes/);

    const folder = join(server.root, "large-folder");
    mkdirSync(folder);
    for (let i = 0; i < 5; i++) await writeRandomFile(join(folder, `part-${i}.bin`), 8 * MiB);
    const asFolder = await runCli(["upload-asset", server.url, folder, "large"], env);
    assert.equal(asFolder.code, 1);
    assertOneLine(asFolder.stderr, /too large for .*at most 33554432 bytes/);
    assert.doesNotMatch(asFolder.stderr, /100%/);
    assert.deepEqual(listTree(join(server.uploadsDir, "large")), []);
  });

  test("local problems are one line and send nothing: a missing path, a symlink or a name that is not UTF-8 in a folder, '/', a name the server would refuse, a wrong token", async () => {
    const missing = await runCli(["upload-asset", server.url, join(server.root, "nope"), "x"], env);
    assertOneLine(missing.stderr, /cannot read .*no such file or folder/);

    const folder = join(server.root, "with-link");
    mkdirSync(folder);
    writeFileSync(join(folder, "real.txt"), "real");
    symlinkSync("real.txt", join(folder, "link.txt"));
    const linked = await runCli(["upload-asset", server.url, folder, "x"], env);
    assertOneLine(linked.stderr, /'link\.txt' in the folder is a symbolic link/);

    const badName = join(server.root, "bad-name");
    mkdirSync(join(badName, "sub"), { recursive: true });
    writeFileSync(join(badName, "good.txt"), "good");
    writeFileSync(Buffer.concat([Buffer.from(join(badName, "sub", "x")), Buffer.from([0xff])]), "");
    const undecodable = await runCli(["upload-asset", server.url, badName, "x"], env);
    assertOneLine(undecodable.stderr, /'sub\/x\ufffd' in the folder: the name is not valid UTF-8; rename it before uploading/);

    const newlineLink = join(server.root, "newline-link");
    mkdirSync(newlineLink);
    symlinkSync("/etc/hostname", join(newlineLink, "lnk\nsecond"));
    const escaped = await runCli(["upload-asset", server.url, newlineLink, "x"], env);
    assertOneLine(escaped.stderr, /'lnk\\nsecond' in the folder is a symbolic link/);

    // Deeper than PATH_MAX (4096) allows a path to name: made one relative step at a time.
    const deep = join(server.root, "deep");
    mkdirSync(deep);
    const part = "d".repeat(250);
    execFileSync("bash", ["-c", `cd "$1" && for i in $(seq 17); do mkdir ${part} && cd ${part}; done && echo x > f`, "-", deep]);
    const tooDeep = await runCli(["upload-asset", server.url, deep, "x"], env);
    execFileSync("rm", ["-rf", deep]);
    assertOneLine(tooDeep.stderr, /cannot read '(d{250}\/)+d{250}' in the folder: its path is too long for this system$/);

    const root = await runCli(["upload-asset", server.url, "/", "x"], env);
    assertOneLine(root.stderr, /LOCAL may not be the root folder '\/'/);

    const spaced = join(server.root, "my file.txt");
    writeFileSync(spaced, "spaced");
    const unnameable = await runCli(["upload-asset", server.url, spaced, "x"], env);
    assertOneLine(unnameable.stderr, /my file\.txt' cannot keep its name on the server \('my file\.txt': each part may hold only .*\); copy or rename it first/);

    // Checked before LOCAL is read: the folder's symlink is never reached, and no request goes out.
    const badRemote = await runCli(["upload-asset", "http://127.0.0.1:9", folder, "releases/v 1"], env);
    assertOneLine(badRemote.stderr, /REMOTE_PATH 'releases\/v 1' would be refused by the server \('v 1': each part may hold only /);
    const longRemote = await runCli(["upload-asset", "http://127.0.0.1:9", folder, Array(33).fill("a").join("/")], env);
    assertOneLine(longRemote.stderr, /would be refused by the server \(more than 32 parts\)/);

    const wrongToken = await runCli(["upload-asset", server.url, file, "x"], { SDCI_TOKEN: "wrong" });
    assertOneLine(wrongToken.stderr, /refused the token \(401\)/);

    const noServer = await runCli(["upload-asset", "http://127.0.0.1:9", file, "x"], env);
    assertOneLine(noServer.stderr, /cannot reach http:\/\/127\.0\.0\.1:9: connection refused/);
    assert.deepEqual(listTree(join(server.uploadsDir, "x")), []);
    for (const result of [missing, linked, undecodable, escaped, tooDeep, root, unnameable, badRemote, longRemote, wrongToken, noServer]) {
      assert.equal(result.code, 1);
    }
  });

  // Root reads every file whatever its mode, so as root (CI) the CLI runs as nobody, which needs
  // a checkout that nobody may read (a clone under /root would not be).
  const nobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
  const cliRunsAsNobody = !nobody || spawnSync(process.execPath, [cliBin, "--version"], nobody).status === 0;
  test("an unreadable file, folder, or file in a folder: one line that says so, nothing kept", { skip: !cliRunsAsNobody && "root reads every file, and user nobody cannot read this checkout" }, async () => {
    const user = nobody;
    const local = mkdtempSync(join(tmpdir(), "sdci-unreadable-"));
    chmodSync(local, 0o755);
    const asUser = (args: string[]) => runCli(args, env, undefined, user);
    const locked = join(local, "locked.bin");
    writeFileSync(locked, "secret");
    chmodSync(locked, 0o000);
    const unreadableFile = await asUser(["upload-asset", server.url, locked, "unreadable"]);
    assertOneLine(unreadableFile.stderr, /^sdci-cli: cannot read '.*locked\.bin': permission denied$/);

    const folder = join(local, "with-locked");
    mkdirSync(join(folder, "sub"), { recursive: true });
    writeFileSync(join(folder, "a.txt"), "a");
    writeFileSync(join(folder, "b.txt"), "b");
    chmodSync(join(folder, "b.txt"), 0o000);
    const unreadableEntry = await asUser(["upload-asset", server.url, folder, "unreadable"]);
    assertOneLine(unreadableEntry.stderr, /^sdci-cli: cannot read 'b\.txt' in the folder: permission denied; nothing was kept$/);
    chmodSync(join(folder, "b.txt"), 0o644);
    chmodSync(join(folder, "sub"), 0o000);
    const unreadableFolder = await asUser(["upload-asset", server.url, folder, "unreadable"]);
    chmodSync(join(folder, "sub"), 0o755);
    assertOneLine(unreadableFolder.stderr, /^sdci-cli: cannot read 'sub' in the folder: permission denied$/);
    for (const result of [unreadableFile, unreadableEntry, unreadableFolder]) assert.equal(result.code, 1);
    assert.deepEqual(listTree(join(server.uploadsDir, "unreadable")), []);
    rmSync(local, { recursive: true, force: true });
  });
});

/**
 * A stand-in for a server that refuses an upload the abrupt way: once a MiB of the body is in,
 * it answers 413 and resets the connection at once, while the client is still writing (as
 * sdci-server did before it drained a refused body, and as a proxy in front of it may still do).
 */
async function startResettingServer(): Promise<{ url: string; close(): Promise<void> }> {
  const problem = JSON.stringify({
    type: "urn:sdci:problem:payload-too-large",
    title: "The request body is too large",
    status: 413,
    detail: "an upload may have at most 1048576 bytes (the server's --max-upload-size)",
  });
  const answer = [
    "HTTP/1.1 413 Payload Too Large",
    "Content-Type: application/problem+json",
    `Content-Length: ${Buffer.byteLength(problem)}`,
    "Connection: close",
    "",
    problem,
  ].join("\r\n");
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    let head = "";
    let bodyBytes = -1;
    socket.on("data", (chunk: Buffer) => {
      if (bodyBytes < 0) {
        head += chunk.toString("latin1");
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        socket.write("HTTP/1.1 100 Continue\r\n\r\n");
        bodyBytes = head.length - end - 4;
        return;
      }
      bodyBytes += chunk.length;
      if (bodyBytes > 1024 * 1024 && !socket.destroyed) {
        socket.write(answer);
        socket.resetAndDestroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("sdci-cli upload-asset of a folder refused while it streams", () => {
  let server: TestServer;
  let folder: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    server = await startTestServer({ args: ["--max-upload-size", "1M"] });
    // 400 MiB that take no disk: far more than the server reads before it refuses, so the
    // client is still writing when the 413 comes.
    folder = join(server.root, "site");
    mkdirSync(folder);
    for (let i = 0; i < 4; i++) writeSparseFile(join(folder, `part-${i}.bin`), 100 * MiB);
    env = { SDCI_TOKEN: server.token };
  });
  after(() => server.stop());

  test("shows the server's one-line 413 every time, never a broken pipe; nothing kept, and the next upload works", async () => {
    for (let attempt = 0; attempt < 8; attempt++) {
      const result = await runCli(["upload-asset", server.url, folder, "refused"], env);
      assert.equal(result.code, 1, `attempt ${attempt}: ${result.stderr}`);
      assertOneLine(result.stderr, /too large for .*: an upload may have at most 1048576 bytes/);
      assert.doesNotMatch(result.stderr, /EPIPE|ECONNRESET|cannot reach|closed by the other side/);
      assert.deepEqual(listTree(join(server.uploadsDir, "refused")), [], `attempt ${attempt}: nothing at the destination`);
      const temps = () => listTree(server.uploadsDir).filter((path) => path.includes(".sdci-upload-"));
      assert.deepEqual(await waitFor(() => temps().length === 0, 2000) && temps(), [], "no temp file within 2 s");
    }
    const small = join(server.root, "small");
    mkdirSync(small);
    writeFileSync(join(small, "index.html"), "<p>ok</p>\n");
    const next = await runCli(["upload-asset", server.url, small, "next"], env);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(listTree(join(server.uploadsDir, "next")), ["small", "small/index.html"]);
  });

  test("against a server that answers 413 and resets the connection at once, it still shows the 413", async () => {
    const resetting = await startResettingServer();
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        const result = await runCli(["upload-asset", resetting.url, folder, "refused"], env);
        assert.equal(result.code, 1, `attempt ${attempt}: ${result.stderr}`);
        assertOneLine(result.stderr, /too large for .*: an upload may have at most 1048576 bytes/);
      }
    } finally {
      await resetting.close();
    }
  });
});

/**
 * A stand-in for a server that lets the test change the local file once the first bytes of
 * the body are in; it answers 201 (with the digest of what it got) to a body that ends whole.
 */
async function startWatchedServer(onFirstBytes: () => void): Promise<{ url: string; wholeBodies(): number; close(): Promise<void> }> {
  let wholeBodies = 0;
  const receive = (request: http.IncomingMessage, response: http.ServerResponse) => {
    const hash = createHash("sha256");
    let size = 0;
    request.on("error", () => {});
    request.on("data", (chunk: Buffer) => {
      if (size === 0) onFirstBytes();
      size += chunk.length;
      hash.update(chunk);
    });
    request.on("end", () => {
      wholeBodies += 1;
      response.writeHead(201, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ path: "changed/big.bin", size, sha256: hash.digest("hex") }));
    });
  };
  const server = http.createServer(receive);
  server.on("checkContinue", (request, response) => {
    response.writeContinue();
    receive(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    wholeBodies: () => wholeBodies,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test("a server that answers 201 without an asset (not an sdci-server): one line that says so, no TypeError", async () => {
  const server = http.createServer((request, response) => {
    request.resume();
    request.on("end", () => response.writeHead(201).end());
  });
  server.on("checkContinue", (request, response) => {
    response.writeContinue();
    server.emit("request", request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const work = mkdtempSync(join(tmpdir(), "sdci-not-sdci-"));
  try {
    const file = join(work, "app.bin");
    writeFileSync(file, "some bytes");
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const result = await runCli(["upload-asset", url, file, "x"], { SDCI_TOKEN: "t" });
    assert.equal(result.code, 1, result.stderr);
    assertOneLine(result.stderr, /answered 201 but not with the asset it stored \(is it an sdci-server\?\)/);
    assert.equal(result.stdout, "");
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(work, { recursive: true, force: true });
  }
});

describe("sdci-cli upload-asset of a file that changes while it is sent", () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), "sdci-changing-"));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  // 64 MiB: far more than the socket buffers hold, so most of it is still unread when it changes.
  for (const [sent, change, size] of [
    ["a file", "shrinks", 1 * MiB],
    ["a file", "grows", 65 * MiB],
    ["a folder", "grows", 65 * MiB],
  ] as const) {
    const what = sent === "a folder" ? "a file in a folder" : sent;
    test(`${what} that ${change}: one line that says so, and the server never gets it whole`, async () => {
      const local = join(work, `${sent.replace(" ", "-")}-that-${change}`);
      const file = sent === "a folder" ? join(local, "big.bin") : local;
      if (sent === "a folder") mkdirSync(local);
      writeSparseFile(file, 64 * MiB);
      const server = await startWatchedServer(() => truncateSync(file, size));
      try {
        const result = await runCli(["upload-asset", server.url, local, "changed"], { SDCI_TOKEN: "t", SDCI_ANSWER_TIMEOUT: "0.5" });
        assert.equal(result.code, 1, result.stderr);
        const named = sent === "a folder" ? "big.bin" : local;
        assertOneLine(result.stderr, new RegExp(`'${named}' changed while it was being sent; nothing was kept`));
        assert.equal(result.stdout, "");
        assert.equal(server.wholeBodies(), 0);
      } finally {
        await server.close();
      }
    });
  }

  test("a file in a folder that vanishes before it is packed: one line that names it, no stack trace, and the server never gets it whole", async () => {
    const local = join(work, "folder-that-loses-a-file");
    mkdirSync(local);
    writeSparseFile(join(local, "big.bin"), 64 * MiB);
    writeFileSync(join(local, "later.txt"), "packed after big.bin");
    const server = await startWatchedServer(() => rmSync(join(local, "later.txt")));
    try {
      const result = await runCli(["upload-asset", server.url, local, "changed"], { SDCI_TOKEN: "t", SDCI_ANSWER_TIMEOUT: "0.5" });
      assert.equal(result.code, 1, result.stderr);
      assertOneLine(result.stderr, /cannot read 'later\.txt' in the folder: no such file or folder; nothing was kept/);
      assert.equal(result.stdout, "");
      assert.equal(server.wholeBodies(), 0);
    } finally {
      await server.close();
    }
  });
});

test("a destination folder removed on the host during the upload: one line with the server's reason, not 'choose another REMOTE_PATH'", async () => {
  const server = await startTestServer();
  try {
    // 1 GiB that takes no disk: long enough on loopback to remove the folder while it arrives.
    const file = join(server.root, "app.bin");
    writeSparseFile(file, 1024 * MiB);
    const cli = startCli(["upload-asset", server.url, file, "vanishing/v1"], { SDCI_TOKEN: server.token });
    const folder = join(server.uploadsDir, "vanishing");
    const arriving = await waitFor(() => listTree(server.uploadsDir).some((path) => path.includes(".sdci-upload-")), 30_000, 5);
    assert.ok(arriving, "the upload began");
    rmSync(folder, { recursive: true });
    const result = await cli.result;
    assert.equal(result.code, 1, result.stderr);
    assertOneLine(result.stderr, /refused the upload: the destination's folder was removed while the upload arrived; nothing was kept, send it again$/);
    assert.deepEqual(listTree(server.uploadsDir), []);
  } finally {
    await server.stop();
  }
});
