import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type KeychainSession,
  keychainToolsMissing,
  processTexts,
  startKeychainSession,
  startMuteBus,
} from "./helpers/keychain.js";
import { cliBin, repoRoot, runCli, startTestServer, type TestServer } from "./helpers/server.js";

const TASKS = { hello: 'echo "hello $1"' };
// Never led by "-", which would read as an option on the command line.
const newToken = () => `t${randomBytes(18).toString("base64url")}`;
/** What every "no keychain" message must offer instead. */
const OTHER_WAYS = /--token TOKEN.*SDCI_TOKEN/;

/** The one line a failing command printed, checked to be exactly one line. */
function oneLine(stderr: string): string {
  const lines = stderr.split("\n").filter(Boolean);
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${stderr}`);
  assert.doesNotMatch(stderr, /\s+at .+:\d+:\d+/, "no stack trace");
  return lines[0] ?? "";
}

describe("the OS keychain, through a real Secret Service", { skip: keychainToolsMissing }, () => {
  let keychain: KeychainSession;
  let server: TestServer;

  /** Asserts that a CLI call (arguments, run with the keychain's environment, or a call) exits 0, showing its stderr when not. */
  async function succeeds(call: string[] | (() => ReturnType<typeof runCli>), message?: string): Promise<void> {
    const result = await (typeof call === "function" ? call() : runCli(call, keychain.env));
    assert.equal(result.code, 0, `${message ?? (call as string[]).join(" ")}: exited ${result.code}: ${result.stderr}`);
  }

  before(async () => {
    [keychain, server] = await Promise.all([startKeychainSession(), startTestServer({ tasks: TASKS })]);
  });
  after(async () => {
    await Promise.all([keychain?.stop(), server?.stop()]);
  });

  test("store-token, then run without --token reads it back; after delete-token run says there is none", async () => {
    const stored = await runCli(["store-token", server.url], keychain.env, `${server.token}\n`);
    assert.equal(stored.code, 0, stored.stderr);
    assert.match(stored.stdout, /stored the token/);

    const ran = await runCli(["run", server.url, "hello", "keychain"], keychain.env);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, "hello keychain\n");

    const deleted = await runCli(["delete-token", server.url], keychain.env);
    assert.equal(deleted.code, 0, deleted.stderr);
    const again = await runCli(["run", server.url, "hello"], keychain.env);
    assert.equal(again.code, 1);
    const line = oneLine(again.stderr);
    assert.match(line, /^sdci-cli: no token for http:\/\/127\.0\.0\.1:\d+: /);
    assert.match(line, OTHER_WAYS);
    assert.match(line, /store-token/);

    const deletedAgain = await runCli(["delete-token", server.url], keychain.env);
    assert.equal(deletedAgain.code, 1);
    assert.match(oneLine(deletedAgain.stderr), /no token stored for/);
  });

  test("secret-tool sees what store-token wrote (service, username); the CLI reads what secret-tool wrote", async () => {
    const token = newToken();
    await succeeds(["store-token", server.url, token]);
    // @napi-rs/keyring, like Python's keyring that older SDCI clients used, writes the
    // attributes `service` and `username` (keytar wrote `account`: it would not be found).
    const lookup = await keychain.exec("secret-tool", ["lookup", "service", "SDCI_token", "username", server.url]);
    assert.equal(lookup.stdout, token);
    const byAccount = await keychain.exec("secret-tool", ["lookup", "service", "SDCI_token", "account", server.url]);
    assert.notEqual(byAccount.code, 0, "no `account` attribute");
    const search = await keychain.exec("secret-tool", ["search", "--all", "service", "SDCI_token"]);
    // secret-tool prints the attributes on stderr.
    assert.match(search.stderr, new RegExp(`^attribute\\.service = SDCI_token$`, "m"));
    assert.match(search.stderr, new RegExp(`^attribute\\.username = ${server.url}$`, "m"));

    const written = await keychain.exec(
      "secret-tool",
      ["store", "--label=SDCI", "service", "SDCI_token", "username", server.url],
      server.token,
    );
    assert.equal(written.code, 0);
    const ran = await runCli(["run", server.url, "hello", "secret-tool"], keychain.env);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, "hello secret-tool\n");
    await succeeds(["delete-token", server.url]);
  });

  test("--token beats SDCI_TOKEN, which beats the keychain (the server takes only its own token)", async () => {
    const right = server.token;
    const [wrongFlag, wrongEnv, wrongStored] = [newToken(), newToken(), newToken()];
    const run = (flag: string | undefined, env: string | undefined) =>
      runCli(["run", ...(flag ? ["--token", flag] : []), server.url, "hello"], { ...keychain.env, SDCI_TOKEN: env ?? "" });
    const refused = /refused the token \(401\)/;

    await succeeds(["store-token", server.url, wrongStored]);
    await succeeds(() => run(right, wrongEnv), "the flag is used when env and keychain are wrong");
    await succeeds(() => run(right, undefined), "the flag is used over a wrong keychain entry");
    await succeeds(() => run(undefined, right), "the env is used over a wrong keychain entry");
    assert.match((await run(undefined, undefined)).stderr, refused, "the keychain's wrong token is sent");

    await succeeds(["store-token", server.url, right]);
    await succeeds(() => run(undefined, undefined), "the keychain's token is used when alone");
    assert.match((await run(undefined, wrongEnv)).stderr, refused, "a wrong env token wins over the keychain");
    assert.match((await run(wrongFlag, right)).stderr, refused, "a wrong flag wins over env and keychain");
    await succeeds(["delete-token", server.url]);
  });

  test("http://h:8842/ and http://h:8842 find the same entry, whoever wrote it", async () => {
    const withSlash = `${server.url}/`;
    await succeeds(["store-token", withSlash, server.token]);
    const lookup = await keychain.exec("secret-tool", ["lookup", "service", "SDCI_token", "username", server.url]);
    assert.equal(lookup.stdout, server.token, "stored without the trailing slash");
    for (const url of [server.url, withSlash]) {
      const ran = await runCli(["run", url, "hello"], keychain.env);
      assert.equal(ran.code, 0, `${url}: ${ran.stderr}`);
    }
    await succeeds(["delete-token", server.url]);

    // An older SDCI client stored the URL as typed, slash and all.
    await keychain.exec("secret-tool", ["store", "--label=old", "service", "SDCI_token", "username", withSlash], server.token);
    for (const url of [server.url, withSlash]) {
      const ran = await runCli(["run", url, "hello"], keychain.env);
      assert.equal(ran.code, 0, `${url}: ${ran.stderr}`);
    }
    await succeeds(["delete-token", server.url]);
    const gone = await keychain.exec("secret-tool", ["lookup", "service", "SDCI_token", "username", withSlash]);
    assert.notEqual(gone.code, 0, "delete-token removes the old form too");
  });

  test("a token given on stdin never shows in any process's command line or environment, nor in any output", async (t) => {
    const token = newToken();
    const child = spawn(process.execPath, [cliBin, "store-token", server.url], {
      env: { ...process.env, ...keychain.env, SDCI_TOKEN: "" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const closed = once(child, "close");
    let finished = false;
    void closed.then(() => (finished = true));

    let sawWaitingCli = false;
    let sawHelper = false;
    const leaks: string[] = [];
    const scan = () => {
      for (const { pid, ppid, cmdline, environ } of processTexts()) {
        if (pid === String(child.pid) && cmdline.includes("store-token")) sawWaitingCli = true;
        if (ppid === String(child.pid) && cmdline.includes("keychain-helper")) sawHelper = true;
        if (cmdline.includes(token) || environ.includes(token)) leaks.push(`${pid}: ${cmdline}`);
      }
    };
    await sleep(300);
    scan();
    child.stdin.write(`${token}\n`);
    for (let i = 0; i < 20; i++) {
      scan();
      await sleep(10);
    }
    assert.equal(finished, false, "store-token waits for the end of stdin");
    child.stdin.end();
    while (!finished) {
      scan();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const [code] = await closed;
    assert.equal(code, 0, output);
    assert.ok(sawWaitingCli, "the scan saw store-token itself");
    assert.deepEqual(leaks, []);
    assert.ok(!output.includes(token), "not in the CLI's output");
    assert.ok(!keychain.output().includes(token), "not in what dbus-daemon and gnome-keyring printed");
    const lookup = await keychain.exec("secret-tool", ["lookup", "service", "SDCI_token", "username", server.url]);
    assert.equal(lookup.stdout, token);
    // The helper lives for tens of milliseconds; when the scan caught it, it was clean too.
    t.diagnostic(`scan caught the keychain helper: ${sawHelper}`);
    await succeeds(["delete-token", server.url]);
  });

  test("a token typed at the hidden prompt on a terminal is not echoed", async () => {
    const token = newToken();
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(cliBin)} store-token ${server.url}`;
    const child = spawn("script", ["--quiet", "--flush", "--return", "--command", command, "/dev/null"], {
      env: { ...process.env, ...keychain.env, SDCI_TOKEN: "", TERM: "dumb" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let screen = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (screen += chunk));
    const closed = once(child, "close");
    for (let waited = 0; !screen.includes("Token for"); waited += 20) {
      assert.ok(waited < 10_000, `no prompt within 10 s: ${screen}`);
      await sleep(20);
    }
    child.stdin.write(`${token}\r`);
    const [code] = await closed;
    assert.equal(code, 0, screen);
    assert.match(screen, /Token for http:\/\/127\.0\.0\.1:\d+: /);
    assert.match(screen, /stored the token/);
    assert.ok(!screen.includes(token), `the token was echoed:\n${screen}`);
    const lookup = await keychain.exec("secret-tool", ["lookup", "service", "SDCI_token", "username", server.url]);
    assert.equal(lookup.stdout, token);
    await succeeds(["delete-token", server.url]);
  });

  test("a locked keychain gives one clear line, without waiting for the timeout", async () => {
    await succeeds(["store-token", server.url, server.token]);
    await keychain.lock();
    for (const args of [["run", server.url, "hello"], ["store-token", server.url, "x"], ["delete-token", server.url]]) {
      const result = await runCli(args, keychain.env);
      assert.equal(result.code, 1, args.join(" "));
      const line = oneLine(result.stderr);
      assert.match(line, /the OS keychain is locked/);
      assert.match(line, OTHER_WAYS);
    }
    const withEnv = await runCli(["run", server.url, "hello"], { ...keychain.env, SDCI_TOKEN: server.token });
    assert.equal(withEnv.code, 0, withEnv.stderr);
  });
});

describe("without a usable keychain", { skip: keychainToolsMissing }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ tasks: TASKS });
  });
  after(async () => {
    await server?.stop();
  });

  const noBus = { "DBUS_SESSION_BUS_ADDRESS unset": undefined, "a dead bus socket": "unix:path=/nonexistent/sdci/bus" };
  for (const [name, address] of Object.entries(noBus)) {
    test(`with ${name}, store-token fails within 3 s naming --token and SDCI_TOKEN; run with SDCI_TOKEN works`, async () => {
      const env = { DBUS_SESSION_BUS_ADDRESS: address, DISPLAY: undefined };
      const started = performance.now();
      const stored = await runCli(["store-token", server.url, "some-token"], env);
      const elapsed = performance.now() - started;
      assert.equal(stored.code, 1);
      const line = oneLine(stored.stderr);
      assert.match(line, /^sdci-cli: cannot store the token for .*: no D-Bus session/);
      assert.match(line, OTHER_WAYS);
      assert.ok(elapsed < 3000, `took ${Math.round(elapsed)} ms`);

      const lookedUp = await runCli(["run", server.url, "hello"], env);
      assert.equal(lookedUp.code, 1);
      assert.match(oneLine(lookedUp.stderr), /no token for .*no D-Bus session.*--token TOKEN.*SDCI_TOKEN/);

      const ran = await runCli(["run", server.url, "hello", "env"], { ...env, SDCI_TOKEN: server.token });
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(ran.stdout, "hello env\n");
    });
  }

  test("a D-Bus session without a Secret Service says so", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sdci-bare-bus-"));
    try {
      // A session bus that knows no services at all, so nothing provides org.freedesktop.secrets.
      const config = join(dir, "session.conf");
      writeFileSync(
        config,
        `<busconfig><type>session</type><listen>unix:tmpdir=${dir}</listen><auth>EXTERNAL</auth>` +
          `<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>` +
          `<allow own="*"/></policy></busconfig>`,
      );
      const child = spawn(
        "dbus-run-session",
        [`--config-file=${config}`, "--", process.execPath, cliBin, "store-token", server.url, "some-token"],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const [code] = await once(child, "close");
      assert.equal(code, 1);
      const ours = stderr.split("\n").filter((line) => line.startsWith("sdci-cli:"));
      assert.equal(ours.length, 1, stderr);
      assert.match(ours[0] ?? "", /no Secret Service on the D-Bus session.*--token TOKEN.*SDCI_TOKEN/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a D-Bus that never answers: the keychain call is abandoned after 5 s, the token it held never visible", async () => {
    const bus = await startMuteBus();
    try {
      const token = newToken();
      const child = spawn(process.execPath, [cliBin, "store-token", server.url], {
        env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: bus.address, SDCI_TOKEN: "" },
        stdio: ["pipe", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const started = performance.now();
      const closed = once(child, "close");
      child.stdin.end(`${token}\n`);
      // Once started, the helper holds the token while it waits on the mute bus.
      const helpersOfChild = () =>
        processTexts().filter(({ ppid, cmdline }) => ppid === String(child.pid) && cmdline.includes("keychain-helper.js"));
      let helpers = helpersOfChild();
      for (let waited = 0; helpers.length === 0 && waited < 4000; waited += 50) {
        await sleep(50);
        helpers = helpersOfChild();
      }
      assert.equal(helpers.length, 1, "the keychain helper is waiting");
      await sleep(500);
      const processes = processTexts();
      assert.deepEqual(
        processes.filter(({ cmdline, environ }) => cmdline.includes(token) || environ.includes(token)),
        [],
      );
      const [code] = await closed;
      const elapsed = performance.now() - started;
      assert.equal(code, 1);
      assert.match(oneLine(stderr), /did not answer within 5 s.*--token TOKEN.*SDCI_TOKEN/);
      // 5 s from the helper's start, plus the CLI's own start-up (slow on a loaded machine).
      assert.ok(elapsed >= 5000 && elapsed < 15_000, `took ${Math.round(elapsed)} ms`);
      assert.ok(!stderr.includes(token));
      const helperPid = Number(helpers[0]?.pid);
      assert.throws(() => process.kill(helperPid, 0), "the helper was killed, not left behind");
    } finally {
      await bus.close();
    }
  });
});

test("--help, --version and runs with a token in hand never load the keychain code", async (t) => {
  const server = await startTestServer({ tasks: TASKS });
  const dir = mkdtempSync(join(tmpdir(), "sdci-modules-"));
  t.after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const hook = join(repoRoot, "test", "helpers", "module-log.mjs");
  let runs = 0;
  /** The modules one CLI call (and any process it starts) imported, by resolved URL. */
  const modulesOf = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const log = join(dir, `modules-${runs++}.log`);
    writeFileSync(log, "");
    const result = await runCli(args, { NODE_OPTIONS: `--import ${hook}`, SDCI_MODULE_LOG: log, ...env });
    return { result, modules: readFileSync(log, "utf8") };
  };
  const keychainCode = /dist\/cli\/keychain|@napi-rs|node_modules\/read\//;

  for (const args of [["--help"], ["--version"], ["run", "--help"], ["store-token", "--help"]]) {
    const { result, modules } = await modulesOf(args);
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    assert.match(modules, /dist\/cli\/main\.js/, "the log records the CLI's modules");
    assert.doesNotMatch(modules, keychainCode, args.join(" "));
  }
  const withFlag = await modulesOf(["run", "--token", server.token, server.url, "hello"]);
  assert.equal(withFlag.result.code, 0, withFlag.result.stderr);
  assert.doesNotMatch(withFlag.modules, keychainCode);
  const withEnv = await modulesOf(["run", server.url, "hello"], { SDCI_TOKEN: server.token });
  assert.equal(withEnv.result.code, 0, withEnv.result.stderr);
  assert.doesNotMatch(withEnv.modules, keychainCode);

  // Without a token the keychain code is loaded (so the checks above can fail); the helper
  // process that loads the native library is started with the same hook.
  const without = await modulesOf(["run", server.url, "hello"], { DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/sdci/bus" });
  assert.equal(without.result.code, 1);
  assert.match(without.modules, /dist\/cli\/keychain\.js/);
  assert.match(without.modules, /@napi-rs\/keyring/);
});
