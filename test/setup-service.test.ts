import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { type AddressInfo, createServer } from "node:net";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { type SetupRequest, installService } from "../src/server/systemd/install-service.js";
import { serverBin } from "./helpers/server.js";
import { waitFor } from "./helpers/wait.js";
import { fakeSystemctl, parseExecStart, runServerCommand, systemdAnalyze, systemdReadsEnvironmentValue } from "./helpers/systemd.js";

/**
 * Every character the env file must carry that an Authorization header can (no blanks: a
 * blank ends a bearer token, so setup refuses them; the writer's handling of blanks is
 * tested in systemd-unit.test.ts).
 */
const TOKEN = `t0k3n$HOME"quotes"\\back%slash#hash;semi'single'\`tick\``;
const me = userInfo();

/** A port that was free a moment ago (the server under test binds it right after). */
async function freePort(): Promise<number> {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Whether the account's home is one no service folder may go in (missing, or the root folder). */
function placeholderHome(user: string): boolean {
  const entry = spawnSync("getent", ["passwd", user], { encoding: "utf8" }).stdout.trim();
  const home = entry.split(":")[5];
  if (!home) return false;
  return home === "/" || !existsSync(home);
}

function tempRoot(): string {
  return mkdtempSync(join(tmpdir(), "sdci-root-"));
}

/** Every file and folder under `root`, relative. */
function tree(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: "utf8" }).sort();
}

function setupArgs(root: string, ...more: string[]): string[] {
  return ["setup", "--ip", "127.0.0.1", "--root", root, "--user", me.username, ...more];
}

/** Runs setup in this process, with `input` as stdin: fast enough for a table of cases. */
async function setupInProcess(request: Partial<SetupRequest>, input: string, platform: NodeJS.Platform = "linux") {
  const stdin = new PassThrough();
  stdin.end(input);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk) => (out += chunk));
  stderr.on("data", (chunk) => (err += chunk));
  const code = await installService(
    { ip: "127.0.0.1", port: "8842", user: me.username, serviceName: "sdci", force: false, dryRun: false, ...request },
    { platform, env: process.env, euid: process.geteuid!(), stdin, stdout, stderr },
  );
  return { code, stdout: out, stderr: err, stdinRead: stdin.readableFlowing !== null };
}

test("setup writes a unit systemd-analyze accepts and a root-only env file systemd reads back as the token", async () => {
  const root = tempRoot();
  const systemctl = fakeSystemctl();
  try {
    const result = await runServerCommand(
      ["setup", "--ip", "10.1.2.3", "--port", "9000", "--root", root, "--run_as_user", me.username, "--systemctl", systemctl.path, "--service-name", "sdci-e2e"],
      { input: `${TOKEN}\n` },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout + result.stderr, /t0k3n/);
    assert.match(result.stderr, /warning: the service will serve plain HTTP on 10\.1\.2\.3, which is not loopback/);
    const local = await runServerCommand(setupArgs(root, "--service-name", "sdci-local", "--dry-run"), { input: `${TOKEN}\n` });
    assert.equal(local.code, 0, local.stderr);
    assert.doesNotMatch(local.stderr, /plain HTTP/, "no warning for 127.0.0.1");

    const unitPath = join(root, "etc/systemd/system/sdci-e2e.service");
    const unit = readFileSync(unitPath, "utf8");
    const execStart = unit.split("\n").find((line) => line.startsWith("ExecStart="))!.slice("ExecStart=".length);
    const home = me.homedir;
    assert.deepEqual(parseExecStart(execStart), [
      process.execPath, serverBin, "serve", "--host", "10.1.2.3", "--port", "9000",
      "--tasks-dir", `${home}/.sdci/tasks`, "--uploads-dir", `${home}/.sdci/uploads`, "--data-dir", `${home}/.sdci/data`,
    ]);
    assert.match(unit, new RegExp(`^User=${me.username}$`, "m"));
    assert.match(unit, /^EnvironmentFile=\/etc\/sdci\/sdci-e2e\.env$/m);
    assert.match(unit, /^Restart=on-failure$/m);
    assert.match(unit, new RegExp(`^WorkingDirectory=${home}/\\.sdci/tasks$`, "m"));
    assert.doesNotMatch(unit, /t0k3n/);
    assert.equal(statSync(unitPath).mode & 0o777, 0o644);

    const verify = systemdAnalyze(["verify", unitPath]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.stderr, "");

    // Written under umask 000 (see runServerCommand): 0600 does not come from the umask.
    const envPath = join(root, "etc/sdci/sdci-e2e.env");
    const envStat = statSync(envPath);
    assert.equal(envStat.mode & 0o777, 0o600);
    assert.equal(envStat.uid, process.geteuid!());
    if (process.geteuid!() === 0) assert.equal(envStat.gid, 0);
    assert.ok(systemdReadsEnvironmentValue(envPath, "SDCI_SERVER_TOKEN", TOKEN));
    assert.deepEqual(readdirSync(join(root, "etc/sdci")), ["sdci-e2e.env"], "no temp file left behind");

    for (const folder of ["tasks", "uploads", "data"]) {
      const stat = statSync(join(root, home, ".sdci", folder));
      assert.ok(stat.isDirectory());
      assert.equal(stat.uid, me.uid);
    }
    assert.deepEqual(systemctl.calls(), ["daemon-reload", "enable sdci-e2e.service", "restart sdci-e2e.service"]);
    assert.match(result.stdout, /systemctl status sdci-e2e/);
    assert.match(result.stdout, /journalctl -u sdci-e2e -f/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("the unit's ExecStart, run with the env file's token, starts a server that takes that token", async () => {
  const root = tempRoot();
  const folders = mkdtempSync(join(tmpdir(), "sdci-folders-"));
  const port = await freePort();
  try {
    mkdirSync(join(folders, "tasks"));
    const result = await runServerCommand(
      setupArgs(root, "--port", String(port), "--tasks-dir", join(folders, "tasks"), "--uploads-dir", join(folders, "uploads"), "--data-dir", join(folders, "data")),
      { input: `${TOKEN}\n` },
    );
    assert.equal(result.code, 0, result.stderr);
    const unit = readFileSync(join(root, "etc/systemd/system/sdci.service"), "utf8");
    const [program, ...args] = parseExecStart(unit.split("\n").find((line) => line.startsWith("ExecStart="))!.slice("ExecStart=".length));
    assert.ok(systemdReadsEnvironmentValue(join(root, "etc/sdci/sdci.env"), "SDCI_SERVER_TOKEN", TOKEN));
    // What systemd would do: the same argv, the token from the env file, the tasks folder as cwd.
    const server = spawn(program!, args, { cwd: join(folders, "tasks"), env: { ...process.env, SDCI_SERVER_TOKEN: TOKEN }, stdio: "ignore" });
    try {
      const status = await waitFor(() =>
        fetch(`http://127.0.0.1:${port}/v1/status`, { headers: { Authorization: `Bearer ${TOKEN}` } }).then((r) => r.status, () => undefined),
      20_000);
      assert.equal(status, 200);
      const wrong = await fetch(`http://127.0.0.1:${port}/v1/status`, { headers: { Authorization: "Bearer wrong" } });
      assert.equal(wrong.status, 401);
    } finally {
      server.kill("SIGTERM");
      await once(server, "exit");
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(folders, { recursive: true, force: true });
  }
});

test("two service names make two env files and two units; neither overwrites the other", async () => {
  const root = tempRoot();
  try {
    const first = await runServerCommand(setupArgs(root, "--service-name", "sdci-a", "--port", "8842"), { input: "token-of-service-a-0001\n" });
    const second = await runServerCommand(setupArgs(root, "--service-name", "sdci-b", "--port", "8843"), { input: "token-of-service-b-0002\n" });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(readdirSync(join(root, "etc/sdci")).sort(), ["sdci-a.env", "sdci-b.env"]);
    assert.ok(systemdReadsEnvironmentValue(join(root, "etc/sdci/sdci-a.env"), "SDCI_SERVER_TOKEN", "token-of-service-a-0001"));
    assert.ok(systemdReadsEnvironmentValue(join(root, "etc/sdci/sdci-b.env"), "SDCI_SERVER_TOKEN", "token-of-service-b-0002"));
    assert.match(readFileSync(join(root, "etc/systemd/system/sdci-a.service"), "utf8"), /EnvironmentFile=\/etc\/sdci\/sdci-a\.env/);
    assert.match(readFileSync(join(root, "etc/systemd/system/sdci-b.service"), "utf8"), /EnvironmentFile=\/etc\/sdci\/sdci-b\.env/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("an existing unit is replaced only after a yes or with --force", async () => {
  const root = tempRoot();
  const systemctl = fakeSystemctl();
  try {
    const installed = await runServerCommand(setupArgs(root, "--port", "8842"), { input: "first-token-0123456789\n" });
    assert.equal(installed.code, 0, installed.stderr);
    // The way back stays under --root: without it, it would remove the host's own service.
    assert.match(installed.stdout, new RegExp(`undo: +sdci-server uninstall --service-name sdci --root ${root.replaceAll("/", "\\/")}\\n`));
    const unitPath = join(root, "etc/systemd/system/sdci.service");
    const envPath = join(root, "etc/sdci/sdci.env");
    const before = { unit: readFileSync(unitPath, "utf8"), env: readFileSync(envPath, "utf8"), tree: tree(root) };
    const unchanged = () => {
      assert.equal(readFileSync(unitPath, "utf8"), before.unit);
      assert.equal(readFileSync(envPath, "utf8"), before.env);
      assert.deepEqual(tree(root), before.tree);
      assert.deepEqual(systemctl.calls(), []);
    };
    const again = (input: string, ...more: string[]) =>
      runServerCommand(setupArgs(root, "--port", "9999", "--systemctl", systemctl.path, ...more), { input });

    for (const answer of ["n\n", ""]) {
      const declined = await again(`second-token-0123456789\n${answer}`);
      assert.match(declined.stdout, /sdci\.service already exists\. Replace it/);
      assert.equal(declined.code, 1, `answer ${JSON.stringify(answer)}`);
      assert.match(declined.stderr, /nothing changed/);
      unchanged();
    }
    for (const answer of ["\n", "maybe\n", "no\n"]) {
      const declined = await setupInProcess({ root, port: "9999", systemctl: systemctl.path }, `second-token-0123456789\n${answer}`);
      assert.equal(declined.code, 1, `answer ${JSON.stringify(answer)}`);
      unchanged();
    }

    const accepted = await again("second-token-0123456789\ny\n");
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(readFileSync(unitPath, "utf8"), /"--port" "9999"/);
    assert.ok(systemdReadsEnvironmentValue(envPath, "SDCI_SERVER_TOKEN", "second-token-0123456789"));

    const forced = await again("", "--port", "7777", "--force", "--token", "third-token-0123456789");
    assert.equal(forced.code, 0, forced.stderr);
    assert.doesNotMatch(forced.stdout, /Replace it/);
    assert.match(readFileSync(unitPath, "utf8"), /"--port" "7777"/);
    assert.ok(systemdReadsEnvironmentValue(envPath, "SDCI_SERVER_TOKEN", "third-token-0123456789"));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("without systemctl on PATH: a clear message, exit 1, nothing written", async () => {
  const root = tempRoot();
  const emptyPath = mkdtempSync(join(tmpdir(), "sdci-path-"));
  try {
    const result = await runServerCommand(setupArgs(root), { input: `${TOKEN}\n`, env: { PATH: emptyPath } });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, "sdci-server: systemctl was not found on PATH: this host does not seem to use systemd; run `sdci-server serve` under your own supervisor instead\n");
    assert.deepEqual(tree(root), []);

    const uninstall = await runServerCommand(["uninstall", "--root", root], { env: { PATH: emptyPath } });
    assert.equal(uninstall.code, 1);
    assert.match(uninstall.stderr, /systemctl was not found/);
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(emptyPath, { recursive: true, force: true });
  }
});

test("not on Linux: a clear message, exit 1, nothing written, stdin not read", async () => {
  const root = tempRoot();
  try {
    const result = await setupInProcess({ root, force: true }, `${TOKEN}\n`, "darwin");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^sdci-server: installing a service needs Linux with systemd, and this is darwin/);
    assert.deepEqual(tree(root), []);
    assert.equal(result.stdinRead, false, "the token on stdin was not even read");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("--dry-run writes nothing and never prints the token, whichever way it came", async () => {
  const root = tempRoot();
  const tokenFile = join(mkdtempSync(join(tmpdir(), "sdci-token-")), "token");
  writeFileSync(tokenFile, `${TOKEN}\n`);
  try {
    const runs = [
      await runServerCommand(setupArgs(root, "--dry-run"), { input: `${TOKEN}\n` }),
      await runServerCommand(setupArgs(root, "--dry-run", "--token-file", tokenFile)),
      await runServerCommand(setupArgs(root, "--dry-run", "--token", TOKEN)),
    ];
    for (const result of runs) {
      assert.equal(result.code, 0, result.stderr);
      const printed = result.stdout + result.stderr;
      assert.doesNotMatch(printed, /t0k3n/);
      assert.match(printed, /SDCI_SERVER_TOKEN=\*{8}/);
      assert.match(printed, /^ExecStart="/m, "the unit is shown");
      assert.match(printed, /systemctl restart sdci\.service/, "the commands are shown");
      assert.deepEqual(tree(root), []);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(join(tokenFile, ".."), { recursive: true, force: true });
  }
});

test("bad values give a one-line reason naming the option, exit 1, and write nothing", async () => {
  const root = tempRoot();
  const cases: [Partial<SetupRequest>, RegExp][] = [
    [{ ip: undefined }, /--ip is required/],
    [{ ip: "10.0.0.1 10.0.0.2" }, /--ip must be an IPv4 or IPv6 address, got "10.0.0.1 10.0.0.2"/],
    [{ ip: "deploy.example.com" }, /--ip must be an IPv4 or IPv6 address/],
    [{ port: "0" }, /--port must be a whole number from 1 to 65535, got "0"/],
    [{ port: "70000" }, /--port must be a whole number from 1 to 65535, got "70000"/],
    [{ port: "80a" }, /--port must be a whole number/],
    [{ user: "no-such-user-sdci" }, /there is no user "no-such-user-sdci" on this host/],
    [{ user: "bad name" }, /--user must be an account name/],
    // nobody's home is a placeholder (Debian's /nonexistent, Fedora's /): no folder of the service may be made there.
    ...(placeholderHome("nobody")
      ? [[{ user: "nobody" }, /nobody's home folder \S+ (does not exist|is the root folder), so it cannot hold the service's folders: pass --tasks-dir/] as [Partial<SetupRequest>, RegExp]]
      : []),
    [{ tasksDir: "relative/tasks" }, /--tasks-dir must be an absolute path, got "relative\/tasks"/],
    [{ uploadsDir: "./uploads" }, /--uploads-dir must be an absolute path/],
    [{ dataDir: "/srv/data\nx" }, /--data-dir contains a control character/],
    // The server would refuse to start with these: setup says so before it installs anything.
    [{ tasksDir: "/srv/up/tasks", uploadsDir: "/srv/up" }, /--tasks-dir \S*\/srv\/up\/tasks is inside --uploads-dir \S*\/srv\/up:/],
    [{ tasksDir: "/srv/x", uploadsDir: "/srv/x", dataDir: "/srv/x" }, /--uploads-dir \S*\/srv\/x is the same folder as --tasks-dir/],
    [{ serviceName: "sdci.service" }, /--service-name takes the name without ".service"/],
    [{ serviceName: "../../etc/passwd" }, /--service-name must be 1 to 64 letters/],
    [{ token: "a", tokenFile: "/nonexistent" }, /give the token one way/],
    [{ tokenFile: "/nonexistent/token" }, /--token-file \/nonexistent\/token cannot be read \(ENOENT\)/],
    [{ token: "  " }, /the token is empty/],
    [{ token: "tab\tinside-the-token" }, /the token contains a control character/],
    [{ token: "two words-0123456789" }, /the token contains a blank/],
    [{ token: "tökentökentökentöken" }, /the token contains a non-ASCII character/],
  ];
  try {
    for (const [request, message] of cases) {
      const result = await setupInProcess({ root, ...request }, `${TOKEN}\n`);
      assert.equal(result.code, 1, `${JSON.stringify(request)}: ${result.stdout}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trimEnd().split("\n").length, 1, `one line: ${result.stderr}`);
      assert.deepEqual(tree(root), [], JSON.stringify(request));
    }
    // The same checks through the command line, where a newline arrives inside an argument.
    const newline = await runServerCommand(setupArgs(root, "--ip", "10.0.0.1\nExecStartPre=/bin/sh"), { input: `${TOKEN}\n` });
    assert.equal(newline.code, 1);
    assert.equal(newline.stderr, 'sdci-server: --ip must be an IPv4 or IPv6 address, got "10.0.0.1\\nExecStartPre=/bin/sh"\n');
    const port = await runServerCommand(setupArgs(root, "--port", "70000"), { input: `${TOKEN}\n` });
    assert.equal(port.code, 1);
    assert.match(port.stderr, /--port must be a whole number from 1 to 65535/);
    const empty = await runServerCommand(setupArgs(root), { input: "" });
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /the token is empty/);
    assert.deepEqual(tree(root), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a failing systemctl step stops setup with the command that failed", async () => {
  const root = tempRoot();
  const systemctl = fakeSystemctl();
  systemctl.failOn("restart");
  try {
    const result = await runServerCommand(setupArgs(root, "--systemctl", systemctl.path), { input: `${TOKEN}\n` });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /fake systemctl: restart failed/);
    assert.match(result.stderr, /^sdci-server: `systemctl restart sdci\.service` failed: exit code 1$/m);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("uninstall stops, disables and removes one service's unit and env file, and keeps the other's", async () => {
  const root = tempRoot();
  const systemctl = fakeSystemctl();
  try {
    for (const name of ["sdci-a", "sdci-b"]) {
      const result = await runServerCommand(setupArgs(root, "--service-name", name), { input: `${TOKEN}\n` });
      assert.equal(result.code, 0, result.stderr);
    }
    const before = tree(root);
    const dryRun = await runServerCommand(["uninstall", "--service-name", "sdci-a", "--root", root, "--dry-run", "--systemctl", systemctl.path]);
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.match(dryRun.stdout, /systemctl disable --now sdci-a\.service/);
    assert.deepEqual(tree(root), before);
    assert.deepEqual(systemctl.calls(), []);

    const removed = await runServerCommand(["uninstall", "--service-name", "sdci-a", "--root", root, "--systemctl", systemctl.path]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(systemctl.calls(), ["disable --now sdci-a.service", "daemon-reload"]);
    assert.deepEqual(readdirSync(join(root, "etc/sdci")), ["sdci-b.env"]);
    assert.deepEqual(readdirSync(join(root, "etc/systemd/system")), ["sdci-b.service"]);
    assert.ok(statSync(join(root, me.homedir, ".sdci/tasks")).isDirectory(), "the folders are kept");

    const again = await runServerCommand(["uninstall", "--service-name", "sdci-a", "--root", root, "--systemctl", systemctl.path]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /no service sdci-a is installed/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a unit of that name that sdci-server did not write is never taken over or removed, with or without --force", async () => {
  const root = tempRoot();
  const systemctl = fakeSystemctl();
  try {
    // One a package installed, one an admin wrote: systemd loads both kinds by name.
    mkdirSync(join(root, "lib/systemd/system"), { recursive: true });
    writeFileSync(join(root, "lib/systemd/system/dbus.service"), "[Service]\nExecStart=/usr/bin/dbus-daemon\n");
    mkdirSync(join(root, "etc/systemd/system"), { recursive: true });
    writeFileSync(join(root, "etc/systemd/system/nginx.service"), "[Service]\nExecStart=/usr/sbin/nginx\n");
    // One that overrides /etc (systemd-run), and one an init.d script becomes (systemd-sysv-generator).
    mkdirSync(join(root, "run/systemd/transient"), { recursive: true });
    writeFileSync(join(root, "run/systemd/transient/oneoff.service"), "[Service]\nExecStart=/bin/true\n");
    mkdirSync(join(root, "run/systemd/generator"), { recursive: true });
    writeFileSync(join(root, "run/systemd/generator/legacy.service"), "[Service]\nExecStart=/etc/init.d/legacy start\n");
    const before = tree(root);
    for (const name of ["dbus", "nginx", "oneoff", "legacy"]) {
      for (const more of [[], ["--force"]]) {
        const setup = await runServerCommand(setupArgs(root, "--service-name", name, "--systemctl", systemctl.path, ...more), {
          input: "a-token-0123456789abcdef\ny\n",
        });
        assert.equal(setup.code, 1, `${name} ${more}: ${setup.stdout}`);
        assert.match(setup.stderr, new RegExp(`^sdci-server: ${name}\\.service is already installed \\(.*${name}\\.service\\) and was not written by sdci-server setup; choose another --service-name\\n$`));
      }
      const uninstall = await runServerCommand(["uninstall", "--service-name", name, "--root", root, "--systemctl", systemctl.path]);
      assert.equal(uninstall.code, 1, uninstall.stdout);
      assert.match(uninstall.stderr, new RegExp(`${name}\\.service is already installed .* not written by sdci-server setup; nothing removed`));
    }
    // A masked name: systemd will not start it, so setup does not pretend to install it.
    symlinkSync("/dev/null", join(root, "etc/systemd/system/masked.service"));
    const masked = await runServerCommand(setupArgs(root, "--service-name", "masked", "--force"), { input: "a-token-0123456789abcdef\n" });
    assert.equal(masked.code, 1);
    assert.match(masked.stderr, /masked\.service is masked \(.*\): unmask it first \(systemctl unmask masked\.service\)/);
    assert.deepEqual(tree(root), [...before, "etc/systemd/system/masked.service"].sort());
    assert.deepEqual(systemctl.calls(), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a unit setup may not read is never taken for absent", { skip: process.geteuid?.() !== 0 && "needs root to run as nobody" }, async () => {
  const root = tempRoot();
  try {
    chmodSync(root, 0o755);
    mkdirSync(join(root, "etc/systemd/system"), { recursive: true, mode: 0o755 });
    chmodSync(join(root, "etc"), 0o755);
    chmodSync(join(root, "etc/systemd"), 0o755);
    writeFileSync(join(root, "etc/systemd/system/private.service"), "[Service]\nExecStart=/usr/sbin/private\n", { mode: 0o600 });
    const asNobody = (args: string[]) => {
      const child = spawn("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, serverBin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr += chunk));
      return once(child, "close").then(([code]) => ({ code, stderr }));
    };
    const setup = await asNobody(["setup", "--ip", "127.0.0.1", "--root", root, "--user", "root", "--token", "a-token-0123456789abcdef", "--service-name", "private", "--dry-run"]);
    assert.equal(setup.code, 1);
    assert.match(setup.stderr, /private\.service exists \(.*\) but cannot be read to tell whether sdci-server setup wrote it/);
    const uninstall = await asNobody(["uninstall", "--service-name", "private", "--root", root, "--dry-run"]);
    assert.equal(uninstall.code, 1);
    assert.match(uninstall.stderr, /cannot be read to tell whether sdci-server setup wrote it .*; nothing removed/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("setup whose output is closed early (| head -3) still finishes the install, with no stack trace", async () => {
  const root = tempRoot();
  try {
    const child = spawn(process.execPath, [serverBin, ...setupArgs(root)], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, SUDO_USER: "" } });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.stdout.destroy();
    child.stdin.end(`${TOKEN}\n`);
    const [code] = (await once(child, "close")) as [number | null];
    assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
    assert.equal(code, 0, stderr);
    assert.ok(readFileSync(join(root, "etc/systemd/system/sdci.service"), "utf8").includes("ExecStart="), "the unit was written");
    assert.ok(statSync(join(root, "etc/sdci/sdci.env")).isFile(), "the env file was written");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("setup run by a user who cannot look into the service user's home still plans the install", { skip: process.geteuid?.() !== 0 && "needs root to run as nobody" }, async () => {
  const root = tempRoot();
  try {
    // The --root folder is root's 0700: to nobody, every path under it is EACCES.
    const child = spawn(
      "setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, serverBin, ...setupArgs(root, "--token", "a-token-0123456789abcdef", "--dry-run")],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const [code] = (await once(child, "close")) as [number | null];
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^Dry run: nothing is written/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
