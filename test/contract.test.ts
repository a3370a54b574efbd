import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { parse } from "yaml";
import { describeApi } from "../src/api/contract.js";
import { repoRoot, startTestServer } from "./helpers/server.js";

const run = promisify(execFile);
const bin = (name: string) => join(repoRoot, "node_modules", ".bin", name);
const contractPath = join(repoRoot, "openapi.yaml");

test("the app's routes describe exactly openapi.yaml (npm run contract rewrites it)", () => {
  const written = parse(readFileSync(contractPath, "utf8"));
  assert.deepEqual(JSON.parse(JSON.stringify(describeApi())), written);
});

test("generated/ is what openapi-typescript makes from openapi.yaml", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sdci-gen-"));
  try {
    const fresh = join(dir, "schema.d.ts");
    await run(bin("openapi-typescript"), [contractPath, "-o", fresh], { cwd: repoRoot });
    assert.equal(readFileSync(fresh, "utf8"), readFileSync(join(repoRoot, "generated", "schema.d.ts"), "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("openapi.yaml passes redocly's recommended lint rules", async () => {
  const { stdout } = await run(bin("redocly"), ["lint", "--format=json", contractPath], {
    cwd: repoRoot,
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
  });
  const report = JSON.parse(stdout.slice(stdout.indexOf("{"))) as { totals: Record<string, number>; problems: unknown[] };
  assert.deepEqual(report.problems, []);
  assert.equal(report.totals.errors, 0);
  assert.equal(report.totals.warnings, 0);
});

test("the server serves openapi.yaml as written and the same document as JSON, without a token", async () => {
  const server = await startTestServer();
  try {
    const yamlResponse = await fetch(`${server.url}/openapi.yaml`);
    assert.equal(yamlResponse.status, 200);
    assert.equal(await yamlResponse.text(), readFileSync(contractPath, "utf8"));
    const jsonResponse = await fetch(`${server.url}/openapi.json`);
    assert.deepEqual(await jsonResponse.json(), parse(readFileSync(contractPath, "utf8")));
  } finally {
    await server.stop();
  }
});
