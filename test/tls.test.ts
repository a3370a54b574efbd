// Issue 9: optional built-in TLS. The server serves HTTPS with its own certificate; the CLI
// trusts a private CA when told to, and says in one line why it refuses otherwise.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type TestServer, runCli, startTestServer } from "./helpers/server.js";

interface TestPki {
  dir: string;
  ca: string;
  cert: string;
  key: string;
  otherKey: string;
}

/** A private CA and a server certificate for 127.0.0.1 it signed, made with openssl. */
function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "sdci-tls-"));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=SDCI test CA");
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  writeFileSync(file("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext");
  openssl("genpkey", "-algorithm", "RSA", "-out", "other.key", "-pkeyopt", "rsa_keygen_bits:2048");
  return { dir, ca: file("ca.pem"), cert: file("server.pem"), key: file("server.key"), otherKey: file("other.key") };
}

describe("built-in TLS", () => {
  let pki: TestPki;
  let server: TestServer;
  before(async () => {
    pki = makePki();
    server = await startTestServer({
      tasks: { hello: 'echo "hello $1"', fail: "echo oops >&2; exit 3" },
      args: ["--tls-cert", pki.cert, "--tls-key", pki.key],
    });
  });
  after(async () => {
    await server.stop();
    rmSync(pki.dir, { recursive: true, force: true });
  });

  test("with --tls-cert/--tls-key the server listens on https", () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  test("sdci-cli run https://... works with --ca-cert, and with NODE_EXTRA_CA_CERTS (AC4)", async () => {
    const env = { SDCI_TOKEN: server.token };
    const withFlag = await runCli(["run", "--ca-cert", pki.ca, server.url, "hello", "tls"], env);
    assert.equal(withFlag.stderr, "");
    assert.deepEqual([withFlag.code, withFlag.stdout], [0, "hello tls\n"]);
    const failing = await runCli(["run", "--ca-cert", pki.ca, server.url, "fail"], env);
    assert.equal(failing.code, 3);
    assert.match(failing.stderr, /^oops\n/);
    const withEnv = await runCli(["run", server.url, "hello", "env"], { ...env, NODE_EXTRA_CA_CERTS: pki.ca });
    assert.deepEqual([withEnv.code, withEnv.stdout], [0, "hello env\n"]);
    const status = await runCli(["status", "--ca-cert", pki.ca, server.url], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^idle/);
  });

  test("without the CA the CLI fails with one clear line, and starts nothing (AC4)", async () => {
    const result = await runCli(["run", server.url, "hello"], { SDCI_TOKEN: server.token });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.equal(
      result.stderr,
      `sdci-cli: ${server.url}: the server's certificate is not trusted: pass --ca-cert FILE or set NODE_EXTRA_CA_CERTS\n`,
    );
    const runs = await runCli(["runs", "--json", "--ca-cert", pki.ca, server.url], { SDCI_TOKEN: server.token });
    const started = (JSON.parse(runs.stdout) as { runs: { task: string; params: string[] }[] }).runs;
    const hellos = started.filter((r) => r.task === "hello" && r.params.length === 0);
    assert.equal(hellos.length, 0, "a run was started over a connection the CLI did not trust");
  });

  test("sdci-cli upload-asset over https works with --ca-cert, and fails in one line without", async () => {
    const local = join(pki.dir, "artifact.txt");
    writeFileSync(local, "the build\n");
    const env = { SDCI_TOKEN: server.token };
    const refused = await runCli(["upload-asset", server.url, local, "tls-untrusted"], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^sdci-cli: .*the server's certificate is not trusted: pass --ca-cert FILE or set NODE_EXTRA_CA_CERTS\n$/);
    assert.equal(existsSync(join(server.uploadsDir, "tls-untrusted")), false);
    const sent = await runCli(["upload-asset", "--ca-cert", pki.ca, server.url, local, "tls"], env);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(readFileSync(join(server.uploadsDir, "tls", "artifact.txt"), "utf8"), "the build\n");
  });

  test("--ca-cert that cannot be read or is not a certificate is one line", async () => {
    const missing = await runCli(["status", "--ca-cert", join(pki.dir, "nope.pem"), server.url], { SDCI_TOKEN: server.token });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^sdci-cli: cannot read the CA certificate .*nope\.pem \(ENOENT\)\n$/);
    const notCert = await runCli(["status", "--ca-cert", pki.key, server.url], { SDCI_TOKEN: server.token });
    assert.equal(notCert.code, 1);
    assert.match(notCert.stderr, /^sdci-cli: .*server\.key is not a PEM certificate.*\n$/);
  });

  test("plain http to the https port does not reach the API", async () => {
    const plain = await runCli(["status", server.url.replace("https:", "http:")], { SDCI_TOKEN: server.token });
    assert.equal(plain.code, 1);
    assert.equal(plain.stderr.split("\n").length, 2, plain.stderr);
  });

  for (const [name, args, expected] of [
    ["a key that does not belong to the certificate", (p: TestPki) => ["--tls-cert", p.cert, "--tls-key", p.otherKey], /the key does not belong to the certificate/],
    ["a certificate file that does not exist", (p: TestPki) => ["--tls-cert", join(p.dir, "nope.pem"), "--tls-key", p.key], /cannot read the TLS certificate .*nope\.pem \(ENOENT\)/],
    ["a key that is not PEM", (p: TestPki) => ["--tls-cert", p.cert, "--tls-key", join(p.dir, "san.ext")], /must be a PEM file/],
    ["--tls-cert without --tls-key", (p: TestPki) => ["--tls-cert", p.cert], /--tls-cert and --tls-key go together/],
  ] as const) {
    test(`the server refuses to start with ${name}, in one line`, async () => {
      const failed = await startTestServer({ args: args(pki) }).then(
        async (started) => {
          await started.stop();
          return undefined;
        },
        (error: Error) => error.message,
      );
      assert.ok(failed, "the server started");
      const output = failed.replace(/^server exited with 1:\n/, "");
      assert.match(output, expected);
      assert.equal(output.trim().split("\n").length, 1, output);
    });
  }
});
