// Issue 7: every curl recipe in the README works as written, in README order.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { repoRoot, startTestServer } from "./helpers/server.js";
import { waitFor } from "./helpers/wait.js";

const bash = promisify(execFile);

/** The README's curl commands, continuation lines joined, in reading order. */
function readmeCurlLines(): string[] {
  const text = readFileSync(join(repoRoot, "README.md"), "utf8").replace(/\\\n\s*/g, "");
  return text.split("\n").map((line) => line.trim()).filter((line) => line.startsWith("curl ") || line.includes(" | curl "));
}

interface Recipe {
  matches: RegExp;
  check(stdout: string, env: Record<string, string>): void;
}

const json = (stdout: string) => JSON.parse(stdout);

/** What each kind of recipe must print. A README curl line that matches none fails the test. */
const RECIPES: Recipe[] = [
  { matches: /\/health"$/, check: (out) => assert.equal(json(out).status, "ok") },
  {
    matches: /-N -X POST .*text\/event-stream.*\/v1\/tasks\/slow\/runs"$/,
    check: (out) => {
      assert.match(out, /^retry: 2000\n\nid: 1\nevent: run\n/);
      assert.match(out, /data: \{"stream":"stdout","text":"step 3 of 3\\n"\}/);
      assert.match(out, /event: exit\ndata: \{"status":"succeeded","exitCode":0/);
    },
  },
  {
    matches: /-i -X POST .*\/v1\/tasks\/slow\/runs"$/,
    check: (out, env) => {
      assert.match(out, /^HTTP\/1\.1 202/);
      const location = /^location: (\/v1\/runs\/(\S+))\r?$/im.exec(out);
      assert.ok(location, out);
      env.RUN_ID = location[2]!;
    },
  },
  { matches: /\/runs\/\$RUN_ID"$/, check: (out, env) => assert.deepEqual([json(out).id, json(out).status], [env.RUN_ID, "running"]) },
  { matches: /\/runs\/\$RUN_ID\/log"$/, check: (out) => assert.match(out, /^step 1 of 5\n/) },
  { matches: /\/runs\/\$RUN_ID\/cancel"$/, check: (out, env) => assert.equal(json(out).id, env.RUN_ID) },
  {
    matches: /Last-Event-ID: 1.*\/runs\/\$RUN_ID\/events"$/,
    check: (out) => {
      assert.doesNotMatch(out, /^id: 1$/m);
      assert.match(out, /^id: 2$/m);
      assert.match(out, /event: exit\ndata: \{"status":"cancelled"/);
    },
  },
  {
    matches: /\/v1\/runs\?task=slow&limit=5"$/,
    check: (out) => {
      const { runs } = json(out);
      assert.ok(runs.length >= 2 && runs.length <= 5 && runs.every((r: { task: string }) => r.task === "slow"));
    },
  },
  { matches: /\/v1\/status"$/, check: (out) => assert.equal(json(out).busy, null) },
  {
    matches: /-T app\.tar\.gz .*Content-Digest: sha-256=.*\/v1\/assets\/releases\/v1\.2\.3\/"$/,
    check: (out, env) => assert.deepEqual(json(out), { path: "releases/v1.2.3/app.tar.gz", size: Number(env.APP_SIZE), sha256: env.APP_SHA256 }),
  },
  {
    matches: /^tar -C dist -cf - \. \| curl .*application\/x-tar.*\/v1\/assets\/releases\/v1\.2\.3\/dist"$/,
    check: (out) => assert.equal(json(out).path, "releases/v1.2.3/dist"),
  },
  {
    matches: /-N -X POST .*"params":\["v1\.2\.3"\].*\/v1\/tasks\/deploy-release\/runs"$/,
    check: (out) => {
      assert.match(out, /current -> releases\/v1\.2\.3/);
      assert.match(out, /event: exit\ndata: \{"status":"succeeded","exitCode":0/);
    },
  },
];

/** A folder with what the upload recipes send: ./app.tar.gz and ./dist. */
function uploadFiles(env: Record<string, string>): string {
  const work = mkdtempSync(join(tmpdir(), "sdci-readme-"));
  mkdirSync(join(work, "dist"));
  writeFileSync(join(work, "dist", "index.html"), "<h1>v1.2.3</h1>\n");
  execFileSync("tar", ["-czf", "app.tar.gz", "-C", "dist", "."], { cwd: work });
  const archive = readFileSync(join(work, "app.tar.gz"));
  env.APP_SIZE = String(archive.length);
  env.APP_SHA256 = createHash("sha256").update(archive).digest("hex");
  return work;
}

test("every curl line in the README runs against a real server and prints what it should", { timeout: 60_000 }, async () => {
  const examples = join(repoRoot, "examples", "tasks");
  const tasks = Object.fromEntries(
    readdirSync(examples).filter((f) => f.endsWith(".sh")).map((f) => [f.slice(0, -3), readFileSync(join(examples, f), "utf8")]),
  );
  const server = await startTestServer({ tasks });
  const env: Record<string, string> = { SDCI_URL: server.url, SDCI_TOKEN: server.token };
  const work = uploadFiles(env);
  const lines = readmeCurlLines();
  assert.ok(lines.length >= RECIPES.length, "the README lost curl recipes");
  try {
    for (const line of lines) {
      const recipe = RECIPES.filter((r) => r.matches.test(line));
      assert.equal(recipe.length, 1, `no single expectation for README line: ${line}`);
      if (line.includes("$RUN_ID/log")) {
        // The run was started by the line before: give its first line the moment it needs.
        await waitFor(async () => (await (await fetch(`${server.url}/v1/runs/${env.RUN_ID}/log`, { headers: server.auth })).text()) !== "");
      }
      if (line.includes("/v1/status")) {
        await waitFor(async () => (await (await fetch(`${server.url}/v1/status`, { headers: server.auth })).json()).busy === null);
      }
      const { stdout } = await bash("bash", ["-c", line], { cwd: work, env: { ...process.env, ...env }, timeout: 20_000 });
      recipe[0]!.check(stdout, env);
    }
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
