import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse } from "yaml";
import { postRun } from "./helpers/http.js";
import { type TestServer, repoRoot, runCli, startTestServer } from "./helpers/server.js";
import { outputOf, readSse } from "./helpers/sse.js";

interface Operation {
  method: string;
  path: string;
}

/** Every operation under /v1 in openapi.yaml, with each path parameter set to its example. */
function v1Operations(): Operation[] {
  const contract = parse(readFileSync(join(repoRoot, "openapi.yaml"), "utf8"));
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries<Record<string, any>>(contract.paths)) {
    if (!template.startsWith("/v1")) continue;
    for (const [method, operation] of Object.entries<any>(item)) {
      const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
        const param = operation.parameters?.find((p: any) => p.in === "path" && p.name === name);
        assert.ok(param?.schema?.example, `no example for {${name}} in ${method} ${template}`);
        return encodeURIComponent(param.schema.example);
      });
      operations.push({ method: method.toUpperCase(), path });
    }
  }
  return operations;
}

// A task that shows every way it could see its environment: the shell's, its own /proc entry,
// a child's, and the server's command line.
const PRINTENV_TASK = [
  "env",
  'echo "-- /proc/self/environ --"',
  "tr '\\0' '\\n' < /proc/$$/environ",
  'echo "-- a child\'s environ --"',
  "bash -c 'tr \"\\0\" \"\\n\" < /proc/$$/environ'",
  'echo "-- the server\'s command line --"',
  "tr '\\0' ' ' < /proc/$PPID/cmdline",
].join("\n");

/** Asserts a task's environment dump is real and shows no trace of the token. */
function assertNoTokenIn(output: string, token: string): void {
  assert.match(output, /^SDCI_TASK=printenv$/m, "the dump did not run");
  assert.match(output, /^PYTHONUNBUFFERED=1$/m);
  assert.equal((output.match(/^SDCI_RUN_ID=/gm) ?? []).length, 3, "three environment dumps expected");
  assert.ok(!output.includes(token), "the token's value is visible to the task");
  assert.doesNotMatch(output, /SDCI_SERVER_TOKEN/);
  assert.doesNotMatch(output, /SDCI_TOKEN=/);
}

describe("the bearer token", () => {
  let server: TestServer;
  const token = randomBytes(24).toString("base64url");

  before(async () => {
    server = await startTestServer({
      token,
      tasks: { deploy: "echo deployed", printenv: PRINTENV_TASK },
      // Both a client's variable and an unrelated one carrying the token must stay with the server.
      env: { SDCI_TOKEN: token, DEPLOY_AUTH_HEADER: `Authorization: Bearer ${token}` },
      // These tests send dozens of wrong tokens from one address on purpose; refusing that
      // address after ten is what test/auth-throttle.test.ts shows.
      args: ["--auth-max-failures", "0"],
    });
  });
  after(async () => {
    await server.stop();
  });

  // Criterion 7: every /v1 operation in the contract refuses a request without the right token.
  test("every /v1 route of openapi.yaml answers 401 with WWW-Authenticate to a missing, wrong or mis-schemed token", async () => {
    const operations = v1Operations();
    assert.ok(operations.length >= 5, `only ${operations.length} /v1 operations found`);
    // Routes outside the contract are behind the same wall: no way to probe what exists.
    operations.push({ method: "GET", path: "/v1/nope" }, { method: "DELETE", path: "/v1/tasks" });
    const badHeaders: Array<string | undefined> = [
      undefined,
      "Bearer wrong-token-of-some-length",
      `Bearer ${token}x`,
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${token} extra`,
      "Bearer",
      `Basic ${Buffer.from(`sdci:${token}`).toString("base64")}`,
      `Basic ${token}`,
      `Token ${token}`,
      token,
    ];
    for (const { method, path } of operations) {
      for (const authorization of badHeaders) {
        const response = await fetch(`${server.url}${path}`, {
          method,
          headers: {
            ...(authorization === undefined ? {} : { Authorization: authorization }),
            ...(method === "POST" ? { "Content-Type": "application/json", Accept: "text/event-stream" } : {}),
          },
          body: method === "POST" ? '{"params":[]}' : undefined,
        });
        const where = `${method} ${path} with ${authorization === undefined ? "no Authorization" : JSON.stringify(authorization)}`;
        assert.equal(response.status, 401, where);
        assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer realm="sdci"/, where);
        assert.equal(response.headers.get("content-type"), "application/problem+json", where);
        const body = await response.text();
        assert.equal(JSON.parse(body).status, 401, where);
        assert.ok(!body.includes(token), `${where}: the reply holds the token`);
      }
    }
    assert.deepEqual(readdirSync(join(server.dataDir, "runs")), [], "a request without the token started a run");
  });

  // Criterion 7: the scheme name is case-insensitive (RFC 9110), the token is not.
  test("the right token is accepted with the scheme in any case", async () => {
    for (const scheme of ["Bearer", "bearer", "BEARER"]) {
      const response = await fetch(`${server.url}/v1/tasks`, { headers: { Authorization: `${scheme} ${token}` } });
      assert.equal(response.status, 200, scheme);
    }
    const response = await fetch(`${server.url}/v1/tasks`, { headers: { Authorization: `Bearer ${token.toUpperCase()}` } });
    assert.equal(response.status, 401);
  });

  // Criterion 7: the CLI with a wrong or missing token: one line, no run.
  test("the CLI with a wrong or no token exits 1 with one line and starts nothing", async () => {
    const wrong = await runCli(["run", server.url, "deploy"], { SDCI_TOKEN: `${token}x` });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stdout, "");
    assert.equal(wrong.stderr, `sdci-cli: ${server.url} refused the token (401): check --token, SDCI_TOKEN or the keychain's (sdci-cli store-token), the first that is set\n`);
    const missing = await runCli(["run", server.url, "deploy"]);
    assert.equal(missing.code, 1);
    // The rest of the line depends on whether this host has a keychain.
    assert.match(missing.stderr, /^sdci-cli: no token for \S+: [^\n]*--token[^\n]*SDCI_TOKEN[^\n]*\n$/);
    assert.ok(missing.stderr.startsWith(`sdci-cli: no token for ${server.url}: `));
    assert.deepEqual(readdirSync(join(server.dataDir, "runs")), []);
  });

  // Criterion 7: the public routes need no token.
  test("/health, /openapi.yaml and /openapi.json answer without a token", async () => {
    for (const path of ["/health", "/openapi.yaml", "/openapi.json"]) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 200, path);
      await response.arrayBuffer();
    }
  });

  // Criterion 7: a task never sees the token (server token from SDCI_SERVER_TOKEN).
  test("a task's environment holds neither the token nor SDCI_SERVER_TOKEN (token from the environment)", async () => {
    const result = await runCli(["run", server.url, "printenv"], { SDCI_TOKEN: token });
    assert.equal(result.code, 0, result.stderr);
    assertNoTokenIn(result.stdout, token);
    assert.doesNotMatch(result.stdout, /^DEPLOY_AUTH_HEADER=/m, "an unrelated variable holding the token reached the task");
  });

  // Criterion 7: no reply and no line of the server's output carries the token.
  test("no reply body or header and nothing the server prints holds the token", async () => {
    const replies: Response[] = [
      await fetch(`${server.url}/health`),
      await fetch(`${server.url}/v1/tasks`, { headers: server.auth }),
      await fetch(`${server.url}/v1/status`, { headers: server.auth }),
      await fetch(`${server.url}/v1/tasks/nope/runs`, { method: "POST", headers: server.auth }),
      await fetch(`${server.url}/v1/tasks/deploy/runs`, {
        method: "POST",
        headers: { ...server.auth, "Content-Type": "application/json" },
        body: '{"params":[1]}',
      }),
      await fetch(`${server.url}/v1/runs/20261203T160755123Z-a1b2c3`, { headers: server.auth }),
      await fetch(`${server.url}/v1/tasks`, { headers: { Authorization: `Bearer ${token}x` } }),
    ];
    const started = await postRun(server, "deploy", [], { sse: true });
    const events = await readSse(started.clone());
    const id = events[0]!.data.id;
    replies.push(
      started,
      await fetch(`${server.url}/v1/runs/${id}`, { headers: server.auth }),
      await fetch(`${server.url}/v1/runs/${id}/events`, { headers: server.auth }),
    );
    assert.equal(outputOf(events, "stdout"), "deployed\n");
    for (const reply of replies) {
      const text = `${[...reply.headers].join("\n")}\n${await reply.text()}`;
      assert.ok(!text.includes(token), `the reply to ${reply.url} holds the token`);
    }
    assert.ok(!server.output().includes(token), "the server printed the token");
  });
});

// Criterion 7: the same with the token in a file, and a client's SDCI_TOKEN in the server's env.
test("a task's environment holds no token when the server reads it from --server-token-file", async () => {
  const token = randomBytes(24).toString("base64url");
  const root = mkdtempSync(join(tmpdir(), "sdci-test-"));
  const tokenFile = join(root, "token");
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const server = await startTestServer({
    root,
    token,
    tasks: { printenv: PRINTENV_TASK },
    args: ["--server-token-file", tokenFile],
    env: { SDCI_SERVER_TOKEN: undefined, SDCI_TOKEN: token },
  });
  try {
    const events = await readSse(await postRun(server, "printenv", [], { sse: true }));
    assert.equal(events.at(-1)?.data.status, "succeeded");
    assertNoTokenIn(outputOf(events, "stdout"), token);
    assert.ok(!server.output().includes(token), "the server printed the token");
  } finally {
    await server.stop();
  }
});
