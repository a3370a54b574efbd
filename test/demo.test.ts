import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot } from "./helpers/server.js";

/** Pids of live processes whose environment has `marker` (zombies hold no environment). */
function processesWithEnv(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, "latin1").split("\0").includes(marker)) found.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

// Criterion 1: the README's main job, `npm run demo`, end to end.
test("the demo serves examples/tasks on loopback, runs tasks live through the CLI with their exit codes, and stops the server", async () => {
  // A TMPDIR of its own marks every process the demo starts (they inherit it), so the test can
  // tell its leftovers from those of tests running beside it.
  const tmp = mkdtempSync(join(tmpdir(), "sdci-demo-test-"));
  try {
    const demo = spawn(process.execPath, [join(repoRoot, "scripts", "demo.mjs")], {
      cwd: repoRoot,
      env: { ...process.env, TMPDIR: tmp, SDCI_TOKEN: "", SDCI_SERVER_TOKEN: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const seenAt = new Map<string, number>();
    demo.stdout.setEncoding("utf8");
    demo.stdout.on("data", (chunk: string) => {
      stdout += chunk;
      for (const line of ["step 1 of 3", "done"]) if (!seenAt.has(line) && stdout.includes(`${line}\n`)) seenAt.set(line, Date.now());
    });
    demo.stderr.setEncoding("utf8");
    demo.stderr.on("data", (chunk: string) => (stderr += chunk));
    const [code] = (await once(demo, "close")) as [number | null];
    const report = `stdout:\n${stdout}\nstderr:\n${stderr}`;

    assert.equal(code, 0, report);
    const url = /# sdci-server is listening on (http:\/\/127\.0\.0\.1:\d+) with a random token/.exec(stdout)?.[1];
    assert.ok(url, report);
    assert.match(stdout, /^hello from .+, run \d{8}T\d{9}Z-[0-9a-f]{6}$/m);
    assert.match(stdout, /^param: world\nparam: two words\n/m);
    assert.match(stdout, /step 1 of 3\nstep 2 of 3\nstep 3 of 3\ndone\n/);
    assert.match(stdout, /about to fail with exit code 3/);
    assert.match(stderr, /warning: this task fails on purpose/);
    assert.match(stderr, /sdci-cli: task 'fail' failed \(exit code 3\)/);
    assert.deepEqual([...stdout.matchAll(/# exit code (\d+)/g)].map((m) => Number(m[1])), [0, 0, 3]);
    assert.match(stdout, /# demo finished: every exit code was as expected/);
    // Live: the slow task's first line was shown about 3 s before its last.
    const spread = seenAt.get("done")! - seenAt.get("step 1 of 3")!;
    assert.ok(spread > 1500, `slow's output arrived all at once (${spread} ms apart)`);

    assert.deepEqual(processesWithEnv(`TMPDIR=${tmp}`), [], "a process the demo started is still running");
    await assert.rejects(fetch(`${url}/health`), "the demo's server still answers");
    assert.deepEqual(readdirSync(tmp), [], "the demo left its work folder behind");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
