// Issue 8: the benchmarks run in CI in their quick mode so they cannot rot. This checks that
// every row is printed with a number for its ratio and a verdict; it never asserts a target,
// which only means something for the full run on a quiet machine.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { Results } from "../bench/lib/report.js";
import { repoRoot } from "./helpers/server.js";

const BENCHMARKS = ["B1", "B2", "B3", "B4", "B5", "B6"];

test("npm run bench -- --quick prints all six rows with numeric ratios and writes them as JSON", { timeout: 300_000 }, async () => {
  const child = spawn("npm", ["run", "--silent", "bench", "--", "--quick"], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const [code] = await once(child, "close");
  assert.equal(code, 0, `npm run bench -- --quick failed:\n${stdout}\n${stderr}`);

  const tableRows = stdout.split("\n").filter((line) => /^\| B\d /.test(line));
  for (const id of BENCHMARKS) {
    const cells = tableRows.find((line) => line.startsWith(`| ${id} `))?.split("|").map((cell) => cell.trim());
    assert.ok(cells, `no ${id} row in:\n${stdout}`);
    const [, , , , , ratio, target, verdict] = cells;
    assert.match(ratio!, /^\d+(\.\d+)?x$/, `${id} ratio: ${cells.join(" | ")}`);
    assert.notEqual(target, "—", `${id} prints its target`);
    assert.match(verdict!, /^(PASS|MISS)$/, `${id} verdict`);
  }

  const results = JSON.parse(readFileSync(join(repoRoot, "bench", "results", "quick.json"), "utf8")) as Results;
  assert.equal(results.mode, "quick");
  for (const id of BENCHMARKS) {
    const row = results.rows.find((entry) => entry.id === id);
    assert.ok(row && typeof row.ratio === "number" && Number.isFinite(row.ratio) && row.ratio > 0, `${id} in the JSON: ${JSON.stringify(row)}`);
  }
});
