import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { ensureFolder, ensureSystemFolder, writeFileAtomically } from "../src/server/systemd/atomic-file.js";
import { requireRunningSystemd } from "../src/server/systemd/host-check.js";
import { StepRunner } from "../src/server/systemd/steps.js";
import { repoRoot } from "./helpers/server.js";

const isRoot = process.geteuid?.() === 0;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "sdci-steps-"));
}

test("the env file is 0600 whatever the umask, replaces the old one atomically, and leaves no temp file", async () => {
  const dir = tempDir();
  const previous = process.umask();
  try {
    const path = join(dir, "sdci.env");
    for (const umask of [0o000, 0o022, 0o277]) {
      process.umask(umask);
      await writeFileAtomically(path, `SDCI_SERVER_TOKEN="umask ${umask}"\n`, 0o600);
      assert.equal(statSync(path).mode & 0o777, 0o600, `umask ${umask.toString(8)}`);
      assert.equal(readFileSync(path, "utf8"), `SDCI_SERVER_TOKEN="umask ${umask}"\n`);
    }
    process.umask(previous);
    assert.deepEqual(readdirSync(dir), ["sdci.env"]);
    await assert.rejects(writeFileAtomically(join(dir, "missing", "x.env"), "x", 0o600), { code: "ENOENT" });
    assert.deepEqual(readdirSync(dir), ["sdci.env"]);
  } finally {
    process.umask(previous);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a service folder hands the user the folders it creates in their home; a parent made elsewhere stays root's, 0755, whatever the umask", { skip: !isRoot && "chown needs root" }, async () => {
  const dir = tempDir();
  const previous = process.umask(0o077);
  try {
    const nobody = { uid: 65534, gid: 65534 };
    const home = join(dir, "home");
    await ensureFolder(join(home, ".sdci", "tasks"), nobody, `${home}/`);
    assert.equal(statSync(dir).uid, 0, "the folder that existed keeps its owner");
    for (const created of ["home", "home/.sdci", "home/.sdci/tasks"]) {
      const stat = statSync(join(dir, created));
      assert.equal(stat.uid, nobody.uid, created);
      assert.equal(stat.mode & 0o777, 0o700, created);
    }
    await ensureFolder(join(dir, "srv", "sdci", "tasks"), nobody, home);
    for (const [created, uid, mode] of [["srv", 0, 0o755], ["srv/sdci", 0, 0o755], ["srv/sdci/tasks", nobody.uid, 0o700]] as const) {
      const stat = statSync(join(dir, created));
      assert.equal(stat.uid, uid, created);
      assert.equal(stat.mode & 0o777, mode, created);
    }
    await ensureSystemFolder(join(dir, "etc", "systemd", "system"));
    for (const created of ["etc", "etc/systemd", "etc/systemd/system"]) assert.equal(statSync(join(dir, created)).mode & 0o777, 0o755, created);
  } finally {
    process.umask(previous);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("not root: the privileged steps go through sudo, the env file's content through stdin", async () => {
  const dir = tempDir();
  const log = join(dir, "sudo.log");
  const sudo = join(dir, "sudo");
  // Logs its arguments and runs the command (as the test's own user), like sudo with NOPASSWD.
  writeFileSync(sudo, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\n[ "$1" = -u ] && shift 2\n[ "$1" = -- ] && shift\nexec "$@"\n`);
  chmodSync(sudo, 0o755);
  const out = new PassThrough();
  let printed = "";
  out.on("data", (chunk) => (printed += chunk));
  try {
    const runner = new StepRunner({
      euid: 4242,
      sudo,
      systemctl: "/bin/true",
      nodePath: process.execPath,
      privilegedWriter: join(repoRoot, "dist", "server", "systemd", "privileged-write.js"),
      out,
      err: out,
    });
    assert.equal(runner.needsSudo, true);
    const etc = join(dir, "etc", "sdci");
    const me = userInfo();
    // Whatever umask the caller (and sudo after it) has, the modes come out as promised.
    const previous = process.umask(0o077);
    await runner.run([
      { kind: "user-folder", path: join(dir, "home", ".sdci", "tasks"), owner: { name: me.username, uid: 4243, gid: me.gid, home: join(dir, "home") } },
      { kind: "root-folder", path: etc },
      { kind: "write", path: join(etc, "sdci.env"), content: 'SDCI_SERVER_TOKEN="secret value"\n', mode: 0o600 },
      { kind: "systemctl", args: ["daemon-reload"] },
      { kind: "remove", path: join(dir, "tasks-gone") },
    ]).finally(() => process.umask(previous));
    for (const [folder, mode] of [["home", 0o700], ["home/.sdci", 0o700], ["home/.sdci/tasks", 0o700], ["etc", 0o755], ["etc/sdci", 0o755]] as const) {
      assert.equal(statSync(join(dir, folder)).mode & 0o777, mode, folder);
    }
    assert.equal(readFileSync(join(etc, "sdci.env"), "utf8"), 'SDCI_SERVER_TOKEN="secret value"\n');
    assert.equal(statSync(join(etc, "sdci.env")).mode & 0o777, 0o600);
    assert.ok(statSync(join(dir, "home", ".sdci", "tasks")).isDirectory());
    const calls = readFileSync(log, "utf8").trim().split("\n");
    assert.deepEqual(calls, [
      `-u ${me.username} -- sh -c umask 077 && exec "$@" sh mkdir -p -m 0700 -- ${join(dir, "home", ".sdci", "tasks")}`,
      `-- sh -c umask 022 && exec "$@" sh mkdir -p -m 0755 -- ${etc}`,
      `-- ${process.execPath} ${join(repoRoot, "dist/server/systemd/privileged-write.js")} ${join(etc, "sdci.env")} 0600`,
      "-- /bin/true daemon-reload",
      `-- rm -f -- ${join(dir, "tasks-gone")}`,
    ]);
    assert.doesNotMatch(calls.join("\n"), /secret/, "the token is never an argument");
    assert.match(printed, /^\+ sudo systemctl daemon-reload$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("systemctl is only run where systemd is the running init (sd_booted)", () => {
  const dir = tempDir();
  try {
    assert.throws(() => requireRunningSystemd(join(dir, "run/systemd/system")), /systemd is not running on this host/);
    mkdirSync(join(dir, "run/systemd/system"), { recursive: true });
    requireRunningSystemd(join(dir, "run/systemd/system"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
