import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  type ServiceSpec,
  renderEnvironmentFile,
  renderServiceUnit,
} from "../src/server/systemd/service-unit.js";
import { SetupError } from "../src/server/systemd/setup-error.js";
import { parseExecStart, systemdAnalyze, systemdReadsEnvironmentValue } from "./helpers/systemd.js";
import { serverBin } from "./helpers/server.js";

/** Quotes, backslashes, specifiers, variables, comment signs and blanks, all at once. */
const AWKWARD = `we "ird" \\q %Z %h $HOME $$ ; # 'x' é`;

function spec(overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    serviceName: "sdci-unit-test",
    user: "root",
    host: "10.0.0.5",
    port: 8842,
    tasksDir: "/srv/sdci/tasks",
    uploadsDir: "/srv/sdci/uploads",
    dataDir: "/srv/sdci/data",
    nodePath: process.execPath,
    entryPoint: serverBin,
    ...overrides,
  };
}

function setting(unit: string, key: string): string[] {
  return unit
    .split("\n")
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

test("the unit starts node directly on the entry point with serve and every folder, and holds no token", () => {
  const unit = renderServiceUnit(spec());
  assert.deepEqual(setting(unit, "ExecStart").map(parseExecStart), [
    [process.execPath, serverBin, "serve", "--host", "10.0.0.5", "--port", "8842",
      "--tasks-dir", "/srv/sdci/tasks", "--uploads-dir", "/srv/sdci/uploads", "--data-dir", "/srv/sdci/data"],
  ]);
  assert.deepEqual(setting(unit, "User"), ["root"]);
  assert.deepEqual(setting(unit, "WorkingDirectory"), ["/srv/sdci/tasks"]);
  assert.deepEqual(setting(unit, "EnvironmentFile"), ["/etc/sdci/sdci-unit-test.env"]);
  assert.deepEqual(setting(unit, "Restart"), ["on-failure"]);
  assert.deepEqual(setting(unit, "WantedBy"), ["multi-user.target"]);
  assert.deepEqual(setting(unit, "Environment"), [], "Environment= is readable by anyone through systemctl show");
  assert.deepEqual(setting(unit, "NoNewPrivileges"), [], "deploy scripts use sudo");
});

test("ExecStart reads back word for word when paths hold quotes, backslashes, %, $, ; and blanks", () => {
  const folder = `/srv/${AWKWARD}`;
  const unit = renderServiceUnit(spec({ tasksDir: folder, uploadsDir: `${folder}/up`, host: "fe80::1%eth0" }));
  const argv = parseExecStart(setting(unit, "ExecStart")[0]!);
  assert.equal(argv[4], "fe80::1%eth0");
  assert.equal(argv[8], folder);
  assert.equal(argv[10], `${folder}/up`);
  assert.deepEqual(setting(unit, "WorkingDirectory"), [folder.replaceAll("%", "%%")]);
});

test("systemd-analyze verify accepts the unit, awkward paths and an awkward node path included", () => {
  const dir = mkdtempSync(join(tmpdir(), "sdci-unit-"));
  try {
    // verify resolves the program of ExecStart, so a node behind a path with blanks and % checks that quoting too.
    const nodeDir = join(dir, "node dir %Z ;");
    mkdirSync(nodeDir);
    symlinkSync(process.execPath, join(nodeDir, "node"));
    const unitPath = join(dir, "sdci-unit-test.service");
    const folder = `/srv/${AWKWARD}`;
    writeFileSync(unitPath, renderServiceUnit(spec({ nodePath: join(nodeDir, "node"), tasksDir: folder, dataDir: `${folder}/data` })));
    const result = systemdAnalyze(["verify", unitPath]);
    assert.equal(result.stderr, "", "no warning about escapes, specifiers or quoting");
    assert.equal(result.code, 0);

    // And the check can fail: an unescaped % specifier is an error to systemd.
    writeFileSync(unitPath, renderServiceUnit(spec()).replace("/srv/sdci/tasks\"", "/srv/sdci/%Z\""));
    assert.notEqual(systemdAnalyze(["verify", unitPath]).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("systemd's own env-file parser reads every awkward token back exactly", () => {
  const dir = mkdtempSync(join(tmpdir(), "sdci-env-"));
  try {
    const file = join(dir, "token.env");
    const tokens = [
      `a b$c"d\\e%f#g'h`,
      "$HOME ${PATH} $$ `id`",
      ";semicolon-first and # hash",
      "ends with a backslash \\",
      "\\n is two characters, \\\\ four",
      "unicode é 🙂",
      "plain-token_0123456789",
    ];
    for (const token of tokens) {
      writeFileSync(file, renderEnvironmentFile(token));
      assert.ok(systemdReadsEnvironmentValue(file, "SDCI_SERVER_TOKEN", token), `round trip of ${JSON.stringify(token)}`);
      assert.ok(!systemdReadsEnvironmentValue(file, "SDCI_SERVER_TOKEN", `${token}x`), "the comparison can fail");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("values a systemd file cannot hold are refused with a reason, not written mangled", () => {
  assert.throws(() => renderServiceUnit(spec({ tasksDir: "/srv/a\nExecStartPre=/bin/evil" })), SetupError);
  assert.throws(() => renderServiceUnit(spec({ tasksDir: "/srv/ends-with-blank " })), /blank/);
  assert.throws(() => renderServiceUnit(spec({ nodePath: '/opt/"node"/bin/node' })), /quote/);
  assert.throws(() => renderEnvironmentFile("line\nSDCI_OTHER=1"), /control character/);
});

test("loopback is recognized however it is written, so setup warns of plain HTTP only off this host", async () => {
  const { isLoopback } = await import("../src/server/systemd/setup-options.js");
  for (const address of ["127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "::ffff:7f00:1"]) {
    assert.equal(isLoopback(address), true, address);
  }
  for (const address of ["10.0.0.5", "0.0.0.0", "::", "::ffff:10.0.0.1", "fe80::1", "fe80::1%eth0", "2001:db8::1"]) {
    assert.equal(isLoopback(address), false, address);
  }
});
