// Issue 10: `--help` and `--version` stay fast because they load nothing but clipanion; each
// command imports its heavy modules (HTTP client, SSE parser, the server) when it runs.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { cliBin, repoRoot, serverBin } from "./helpers/server.js";

const tracer = join(repoRoot, "test", "helpers", "module-trace.mjs");
/** What a command line may load before it knows which command runs. */
const STARTUP_PACKAGES = ["clipanion", "typanion"];

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), "sdci-startup-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs a built bin with the module tracer; returns the npm packages it loaded and its exit code. */
async function packagesLoadedBy(bin: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const traceFile = join(work, `trace-${Math.random().toString(36).slice(2)}.txt`);
  const code = await new Promise<number>((resolve) => {
    execFile(
      process.execPath,
      ["--import", tracer, bin, ...args],
      { cwd: work, env: { ...process.env, SDCI_TOKEN: "", ...env, SDCI_MODULE_TRACE: traceFile }, timeout: 20_000 },
      (error) => resolve(typeof error?.code === "number" ? error.code : error ? -1 : 0),
    );
  });
  const packages = new Set<string>();
  for (const url of readFileSync(traceFile, "utf8").split("\n")) {
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (match?.[1]) packages.add(match[1]);
  }
  return { code, packages: [...packages].sort() };
}

describe("startup loads only the command line", () => {
  for (const [name, bin] of [
    ["sdci-cli", cliBin],
    ["sdci-server", serverBin],
  ] as const) {
    for (const args of [["--version"], ["--help"], ["-h"]]) {
      test(`${name} ${args.join(" ")} loads no package but clipanion`, async () => {
        const { code, packages } = await packagesLoadedBy(bin, args);
        assert.equal(code, 0);
        assert.ok(packages.includes("clipanion"), `the tracer saw: ${packages.join(", ")}`);
        assert.deepEqual(packages.filter((name) => !STARTUP_PACKAGES.includes(name)), []);
      });
    }
  }

  test("sdci-cli run --help and sdci-server serve --help load no package but clipanion", async () => {
    for (const [bin, command] of [
      [cliBin, "run"],
      [serverBin, "serve"],
    ] as const) {
      const { code, packages } = await packagesLoadedBy(bin, [command, "--help"]);
      assert.equal(code, 0);
      assert.deepEqual(packages.filter((name) => !STARTUP_PACKAGES.includes(name)), [], `${command} --help`);
    }
  });

  test("a command that runs does load what it needs (the tracer sees lazy imports)", async () => {
    const cli = await packagesLoadedBy(cliBin, ["status", "http://127.0.0.1:9"], { SDCI_TOKEN: "t" });
    assert.equal(cli.code, 1);
    assert.ok(cli.packages.includes("openapi-fetch"), `sdci-cli status loaded: ${cli.packages.join(", ")}`);
    const server = await packagesLoadedBy(serverBin, ["serve", "--port", "0", "--tasks-dir", join(work, "none")], {
      SDCI_SERVER_TOKEN: "a-token-long-enough-for-the-check",
    });
    assert.equal(server.code, 1);
    assert.ok(server.packages.includes("hono"), `sdci-server serve loaded: ${server.packages.join(", ")}`);
  });
});
