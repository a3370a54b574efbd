import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net, { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type RawResponse, postRun, rawRequest, waitForRun } from "./helpers/http.js";
import { type TestServer, runCli, startTestServer } from "./helpers/server.js";
import { runServerCommand } from "./helpers/systemd.js";

/** Asserts an RFC 9457 problem with the given status; returns its body. */
async function assertProblem(response: Response | RawResponse, status: number, where: string): Promise<any> {
  const isRaw = !(response instanceof Response);
  const contentType = isRaw ? response.headers["content-type"] : response.headers.get("content-type");
  const text = isRaw ? response.body : await response.text();
  assert.equal(response.status, status, `${where}: ${text}`);
  assert.equal(contentType, "application/problem+json", where);
  const problem = JSON.parse(text);
  assert.equal(problem.status, status, where);
  assert.match(problem.type, /^urn:sdci:problem:/, where);
  assert.equal(typeof problem.title, "string", where);
  return problem;
}

/**
 * Sends one request with its whole body on a keep-alive connection, then `GET /health` on the
 * same connection. Returns the first answer's status and whether the connection either said it
 * would close or served the second request: a server that says keep-alive and then drops the
 * socket fails whatever request a client sends next on it.
 */
async function followUpOnSameConnection(
  server: TestServer,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; connection: string; keptPromise: boolean }> {
  const { port } = new URL(server.url);
  const socket = connect(Number(port), "127.0.0.1");
  socket.on("error", () => {});
  let received = "";
  let closed = false;
  socket.on("data", (chunk) => (received += chunk));
  socket.on("close", () => (closed = true));
  const head = Object.entries({ ...headers, "Content-Length": String(Buffer.byteLength(body)) })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  socket.write(`POST /v1/tasks/hello/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n${head}\r\n${body}`);
  const deadline = Date.now() + 5000;
  while (!/\r\n\r\n\{[^]*\}/.test(received) && !closed && Date.now() < deadline) await sleep(10);
  const status = Number(received.split(" ")[1]);
  const connection = /^connection: *(\S+)/im.exec(received)?.[1]?.toLowerCase() ?? "";
  if (connection === "close") {
    while (!closed && Date.now() < deadline) await sleep(10);
    return { status, connection, keptPromise: closed };
  }
  socket.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  while (!/"status":"ok"/.test(received) && !closed && Date.now() < deadline) await sleep(10);
  socket.destroy();
  return { status, connection, keptPromise: /"status":"ok"/.test(received) };
}

describe("bad input to POST /v1/tasks/{task}/runs", () => {
  let server: TestServer;
  const runDirs = () => readdirSync(join(server.dataDir, "runs")).length;
  let runsBefore = 0;
  const post = (task: string, body: string | undefined, contentType?: string) =>
    fetch(`${server.url}/v1/tasks/${task}/runs`, {
      method: "POST",
      headers: { ...server.auth, ...(contentType ? { "Content-Type": contentType } : {}) },
      body,
    });
  const postJson = (body: string) => post("hello", body, "application/json");

  before(async () => {
    server = await startTestServer({ tasks: { hello: 'echo "hello $#"' } });
  });
  after(async () => {
    await server.stop();
  });
  // Each rejected request leaves nothing behind: no run, no lock, a server that still serves.
  afterEach(async () => {
    assert.equal(runDirs(), runsBefore, "a rejected request started a run");
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, "ok");
  });

  // Criterion 8: unknown task.
  test("an unknown task gets 404 problem+json, and the CLI says so in one line", async () => {
    runsBefore = runDirs();
    const problem = await assertProblem(await post("nope", undefined), 404, "nope");
    assert.equal(problem.type, "urn:sdci:problem:not-found");
    const cli = await runCli(["run", server.url, "nope"], { SDCI_TOKEN: server.token });
    assert.equal(cli.code, 1);
    assert.equal(cli.stdout, "");
    assert.equal(cli.stderr, `sdci-cli: task 'nope' not found on ${server.url}\n`);
  });

  // Criterion 8: task names that are paths, encoded or not, or too long.
  test("task names with dot segments, an encoded slash, NUL or 65 characters get 400", async () => {
    runsBefore = runDirs();
    // fetch would resolve dot segments before sending: these go over a raw socket.
    for (const name of ["..", ".", "%2e%2e", "%2E%2E", ".%2E", "%2e", "%2e."]) {
      const response = await rawRequest(server.url, `POST /v1/tasks/${name}/runs`, server.auth);
      await assertProblem(response, 400, name);
    }
    for (const name of ["a%2Fb", "..%2Fhello", "a%00b", "a".repeat(65), "-hello", "hello.sh%00", "%C3%A9"]) {
      const problem = await assertProblem(await post(name, undefined), 400, name);
      assert.equal(problem.type, "urn:sdci:problem:invalid-request");
    }
  });

  test("the CLI answers a bad task name with one line and exit code 1", async () => {
    runsBefore = runDirs();
    const cli = await runCli(["run", server.url, "../hello"], { SDCI_TOKEN: server.token });
    assert.equal(cli.code, 1);
    assert.equal(cli.stdout, "");
    assert.match(cli.stderr, /^sdci-cli: .*400.*task name.*\n$/);
  });

  // Criterion 8: params that are not a bounded array of NUL-free strings.
  test("params of the wrong shape, too many, too long or with NUL get 400 listing the errors", async () => {
    runsBefore = runDirs();
    const bodies: Record<string, string> = {
      "a string": '{"params":"x"}',
      "a number in the list": '{"params":[1]}',
      "null in the list": '{"params":[null]}',
      "a nested list": '{"params":[["x"]]}',
      "params null": '{"params":null}',
      "an extra key": '{"params":[],"extra":1}',
      "only an unknown key": '{"param":["x"]}',
      "an array body": '["x"]',
      "a string body": '"x"',
      "a null body": "null",
      "65 params": JSON.stringify({ params: Array.from({ length: 65 }, (_, i) => String(i)) }),
      "a 4097-character param": JSON.stringify({ params: ["x".repeat(4097)] }),
      "NUL in a param": JSON.stringify({ params: ["a\0b"] }),
      // Valid JSON, but no text: the task would get U+FFFD while the record kept the escape.
      "a lone surrogate in a param": '{"params":["a\\ud800b"]}',
    };
    for (const [what, body] of Object.entries(bodies)) {
      const problem = await assertProblem(await postJson(body), 400, what);
      assert.equal(problem.type, "urn:sdci:problem:invalid-request", what);
      assert.ok(Array.isArray(problem.errors) && problem.errors.length > 0, `${what}: no errors list`);
      for (const issue of problem.errors) {
        assert.equal(typeof issue.location, "string", what);
        assert.equal(typeof issue.message, "string", what);
      }
    }
  });

  test("a 400 lists every problem of the body at once", async () => {
    runsBefore = runDirs();
    const problem = await assertProblem(await postJson('{"params":[1,"ok",null]}'), 400, "two bad params");
    assert.deepEqual(problem.errors.map((e: any) => e.location).sort(), ["json.params.0", "json.params.2"]);
  });

  // Criterion 8: JSON that does not parse.
  test("malformed JSON gets 400", async () => {
    runsBefore = runDirs();
    for (const body of ["{", '{"params":[}', "{'params':[]}", "\u0000"]) {
      const problem = await assertProblem(await postJson(body), 400, JSON.stringify(body));
      assert.equal(problem.type, "urn:sdci:problem:invalid-request");
    }
  });

  // Criterion 8: a body that does not say it is JSON.
  test("a body sent as text/plain, a form, or with no Content-Type gets 415", async () => {
    runsBefore = runDirs();
    await assertProblem(await post("hello", '{"params":["x"]}', "text/plain"), 415, "text/plain");
    await assertProblem(await post("hello", "params=x", "application/x-www-form-urlencoded"), 415, "form");
    await assertProblem(await post("hello", '{"params":["x"]}', "multipart/form-data; boundary=x"), 415, "multipart");
    const raw = await rawRequest(server.url, "POST /v1/tasks/hello/runs", server.auth, '{"params":["x"]}');
    await assertProblem(raw, 415, "no Content-Type");
  });

  // Criterion 8: a body over the limit, announced by its length.
  test("a body over 512 KiB with a Content-Length gets 413", async () => {
    runsBefore = runDirs();
    const big = JSON.stringify({ params: ["x".repeat(600 * 1024)] });
    await assertProblem(await postJson(big), 413, "with Content-Length");
  });

  // Criterion 8: a body over the limit that only shows it while streaming.
  test("a chunked body over 512 KiB gets 413 and the connection closes", async () => {
    runsBefore = runDirs();
    const { port } = new URL(server.url);
    const socket = connect(Number(port), "127.0.0.1");
    socket.on("error", () => {});
    let received = "";
    socket.on("data", (chunk) => (received += chunk));
    const closed = once(socket, "close");
    const head = `POST /v1/tasks/hello/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${server.auth.Authorization}\r\n`;
    socket.write(`${head}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    // 640 KiB in 64 KiB chunks, and no final chunk: only the limit can end this request.
    for (let i = 0; i < 10; i++) socket.write(`10000\r\n${" ".repeat(0x10000)}\r\n`);
    await Promise.race([closed, sleep(5000)]);
    socket.destroy();
    const [head413 = "", body = ""] = received.split("\r\n\r\n");
    assert.match(head413, /^HTTP\/1\.1 413 /);
    assert.match(head413, /^connection: close$/im);
    assert.equal(JSON.parse(body).type, "urn:sdci:problem:payload-too-large");
  });

  // Criterion 8: a rejected body must not cost the client its next request.
  test("after a 413 or 415 to a body of declared length, the same connection serves the next request", async () => {
    runsBefore = runDirs();
    const cases: Array<[string, number]> = [
      ["application/json", 600 * 1024],
      ["application/json", 5 * 1024 * 1024],
      ["text/plain", 2 * 1024],
      ["text/plain", 200 * 1024],
    ];
    for (const [contentType, size] of cases) {
      const result = await followUpOnSameConnection(server, { ...server.auth, "Content-Type": contentType }, "x".repeat(size));
      assert.equal(result.status, contentType === "text/plain" ? 415 : 413);
      assert.equal(result.connection, "keep-alive", `${contentType} ${size} B`);
      assert.ok(result.keptPromise, `${contentType} ${size} B: said 'Connection: ${result.connection}' but dropped the next request`);
    }
  });

  // Criterion 8: the limits themselves are allowed (the 400s above are not off by one).
  test("64 params of 4096 characters are accepted, and the server runs tasks after all the bad input", async () => {
    const params = Array.from({ length: 64 }, (_, i) => String(i % 10).repeat(4096));
    const response = await postRun(server, "hello", params);
    assert.equal(response.status, 202, await response.clone().text());
    const { run } = await response.json();
    assert.equal((await waitForRun(server, run.id)).status, "succeeded");
    runsBefore = runDirs();
  });
});

test("the CLI says why it cannot reach a server in one line, for every reason", async () => {
  const cases: Array<[string, RegExp]> = [
    ["http://127.0.0.1:1", /cannot reach http:\/\/127\.0\.0\.1:1: fetch never connects to this port/],
    ["http://127.0.0.1:9", /cannot reach http:\/\/127\.0\.0\.1:9: fetch never connects to this port/],
    ["http://no-such-host.invalid", /cannot reach http:\/\/no-such-host\.invalid: unknown host/],
  ];
  for (const [url, expected] of cases) {
    for (const command of [["status", url], ["tasks", url], ["run", url, "hello"]]) {
      const cli = await runCli(command, { SDCI_TOKEN: "x".repeat(32) });
      assert.equal(cli.code, 1, `${command.join(" ")}: ${cli.stderr}`);
      assert.match(cli.stderr, new RegExp(`^sdci-cli: ${expected.source}[^\\n]*\\n$`), command.join(" "));
    }
  }
});

test("a SERVER_URL with a query, a fragment or a user and password is refused in one line before anything is sent", async () => {
  const cases: Array<[string, RegExp]> = [
    ["http://127.0.0.1:9?x=1", /SERVER_URL may not have a query or fragment: 'http:\/\/127\.0\.0\.1:9\?x=1'/],
    ["http://127.0.0.1:9/#top", /SERVER_URL may not have a query or fragment: 'http:\/\/127\.0\.0\.1:9\/#top'/],
    ["http://user:secret@127.0.0.1:9", /SERVER_URL may not hold a user or password: pass the token with --token or SDCI_TOKEN/],
    ["http://127.0.0.1:9 ", /not a server URL: "http:\/\/127\.0\.0\.1:9 " holds a blank/],
  ];
  const work = mkdtempSync(join(tmpdir(), "sdci-url-"));
  try {
    writeFileSync(join(work, "app.bin"), "bytes");
    for (const [url, expected] of cases) {
      for (const command of [["status", url], ["run", url, "hello"], ["upload-asset", url, join(work, "app.bin"), "x"]]) {
        const cli = await runCli(command, { SDCI_TOKEN: "x".repeat(32) });
        assert.equal(cli.code, 1, `${command.join(" ")}: ${cli.stderr}`);
        assert.match(cli.stderr, new RegExp(`^sdci-cli: ${expected.source}\\n$`), command.join(" "));
        assert.doesNotMatch(cli.stderr, /secret/, "the password is not repeated");
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("a program that answers in something other than HTTP, or a 502 with no reason, gets one readable line", async () => {
  const garbage = net.createServer((socket) => socket.end("SSH-2.0-OpenSSH_9.2\r\n\r\n"));
  const badGateway = net.createServer((socket) => {
    socket.once("data", () => socket.end("HTTP/1.1 502 \r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
  });
  const listening = async (server: net.Server) => {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  };
  const [garbageUrl, badGatewayUrl] = [await listening(garbage), await listening(badGateway)];
  const file = join(mkdtempSync(join(tmpdir(), "sdci-garbage-")), "file.txt");
  writeFileSync(file, "x");
  try {
    for (const [url, expected] of [
      [garbageUrl, /answered with something that is not HTTP/],
      [badGatewayUrl, /answered 502 with no reason given/],
    ] as const) {
      for (const command of [["status", url], ["run", url, "hello"], ["upload-asset", url, file, "x"]]) {
        const cli = await runCli(command, { SDCI_TOKEN: "x".repeat(32), SDCI_ANSWER_TIMEOUT: "5" });
        assert.equal(cli.code, 1, `${command.join(" ")}: ${cli.stderr}`);
        assert.match(cli.stderr, new RegExp(`^sdci-cli: [^\\n]*${expected.source}[^\\n]*\\n$`), `${command.join(" ")}: ${cli.stderr}`);
      }
    }
  } finally {
    garbage.close();
    badGateway.close();
    rmSync(dirname(file), { recursive: true, force: true });
  }
});

test("sdci-cli run against a server whose answer is not an sdci-server's stream: one line, never a loop or a TypeError", async () => {
  const answers: Record<string, { type: string; body: string }> = {
    "a web page": { type: "text/html", body: "<html><body>It works!</body></html>" },
    "an output event of the wrong shape": {
      type: "text/event-stream",
      body: 'id: 1\nevent: run\ndata: {"id":"x"}\n\nid: 2\nevent: output\ndata: {"stream":"stdout","text":5}\n\n',
    },
    "an exit event with no data": { type: "text/event-stream", body: 'id: 1\nevent: run\ndata: {"id":"x"}\n\nid: 2\nevent: exit\ndata: null\n\n' },
    "a run event that is not JSON": { type: "text/event-stream", body: "id: 1\nevent: run\ndata: {oops\n\n" },
    "JSON that is not a status": { type: "application/json", body: '{"a":1}' },
  };
  for (const [what, { type, body }] of Object.entries(answers)) {
    const fake = http.createServer((request, response) => {
      request.resume();
      response.writeHead(200, { "Content-Type": type }).end(body);
    });
    fake.listen(0, "127.0.0.1");
    await once(fake, "listening");
    const url = `http://127.0.0.1:${(fake.address() as net.AddressInfo).port}`;
    try {
      const started = performance.now();
      const command = what === "JSON that is not a status" ? ["status", url] : ["run", url, "hello"];
      const cli = await runCli(command, { SDCI_TOKEN: "x".repeat(32), SDCI_ANSWER_TIMEOUT: "5" });
      assert.equal(cli.code, 1, `${what}: ${cli.stderr}`);
      assert.match(cli.stderr, /^sdci-cli: [^\n]*(is it an sdci-server\?)[^\n]*\n$/, `${what}: ${cli.stderr}`);
      assert.ok(performance.now() - started < 10_000, `${what}: took ${performance.now() - started} ms`);
      // A POST answered 2xx may have started the run, whatever came back.
      if (what === "a web page") assert.match(cli.stderr, /so the run may have started or not \(see: sdci-cli runs http/);
    } finally {
      fake.closeAllConnections();
      fake.close();
    }
  }
});

test("a usage mistake is one line on stderr that points to --help, nothing on stdout, exit 1", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["run", "http://127.0.0.1:9"], /^sdci-cli: Not enough positional arguments\. \(see: sdci-cli run --help\)\n$/],
    [["status", "http://127.0.0.1:9", "extra"], /^sdci-cli: Extraneous positional argument \("extra"\)\. \(see: sdci-cli status --help\)\n$/],
    [["runs", "--limit", "0", "http://127.0.0.1:9"], /^sdci-cli: Invalid value for --limit: [^\n]* \(see: sdci-cli runs --help\)\n$/],
    [["upload-asset", "http://127.0.0.1:9", "-dash.txt", "x"], /^sdci-cli: Invalid option name \("-dash\.txt"\)\. \(see: sdci-cli upload-asset --help\)\n$/],
    [["deploy-now"], /^sdci-cli: no command takes these arguments: "deploy-now" \(see: sdci-cli --help\)\n$/],
  ];
  for (const [args, expected] of cases) {
    const result = await runCli(args, { SDCI_TOKEN: "x".repeat(32) });
    assert.equal(result.code, 1, args.join(" "));
    assert.equal(result.stdout, "", `${args.join(" ")}: nothing on stdout`);
    assert.match(result.stderr, expected, args.join(" "));
  }
  const server = await runServerCommand(["serve", "--bogus"]);
  assert.equal(server.code, 1);
  assert.equal(server.stdout, "");
  assert.equal(server.stderr, 'sdci-server: Unsupported option name ("--bogus"). (see: sdci-server serve --help)\n');
});
