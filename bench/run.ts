// `npm run bench [-- --quick] [-- --only B1,B3]`: every benchmark in turn, then the table on
// stdout and the same results as JSON in bench/results/ (git-ignored). Progress goes to stderr.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { benchTrigger } from "./b1-trigger.js";
import { benchLineLatency } from "./b2-line-latency.js";
import { benchOutputThroughput } from "./b3-output-throughput.js";
import { benchUpload } from "./b4-upload.js";
import { benchStartup } from "./b5-startup.js";
import { benchStatusRps } from "./b6-status-rps.js";
import type { Benchmark, BenchConfig } from "./lib/config.js";
import { type Results, type Row, formatTable } from "./lib/report.js";
import { repoRoot } from "./lib/server.js";

const BENCHMARKS: Record<string, Benchmark> = {
  B1: benchTrigger,
  B2: benchLineLatency,
  B3: benchOutputThroughput,
  B4: benchUpload,
  B5: benchStartup,
  B6: benchStatusRps,
};

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: process.env.BENCH_QUICK === "1" },
    only: { type: "string" },
  },
});
const config: BenchConfig = {
  quick: values.quick ?? false,
  progress: (message) => process.stderr.write(`bench: ${message}\n`),
};
const selected = values.only ? values.only.split(",").map((id) => id.trim().toUpperCase()) : Object.keys(BENCHMARKS);

const started = performance.now();
const startedAt = new Date().toISOString();
const rows: Row[] = [];
let failed = false;
for (const id of selected) {
  const benchmark = BENCHMARKS[id];
  if (!benchmark) throw new Error(`no benchmark ${id}; there are ${Object.keys(BENCHMARKS).join(", ")}`);
  try {
    rows.push(...(await benchmark(config)));
  } catch (error) {
    // One broken benchmark still leaves the others' rows, and the run fails at the end.
    failed = true;
    config.progress(`${id} failed: ${(error as Error).stack ?? error}`);
    rows.push({ id, measure: "failed", sdci: "—", baseline: "—", ratio: null, target: "", verdict: "n/a", note: String((error as Error).message), values: {} });
  }
}

const results: Results = {
  mode: config.quick ? "quick" : "full",
  startedAt,
  durationS: Math.round((performance.now() - started) / 100) / 10,
  machine: { cpus: cpus().length, loadavg: loadavg(), node: process.version, kernel: release() },
  rows,
};
const resultsDir = join(repoRoot, "bench", "results");
mkdirSync(resultsDir, { recursive: true });
const jsonPath = join(resultsDir, config.quick ? "quick.json" : "latest.json");
writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);

const load = results.machine.loadavg.map((value) => value.toFixed(1)).join(" ");
console.log(`SDCI benchmarks (${results.mode}), ${results.durationS} s, ${results.machine.cpus} cores, load ${load}, Node ${process.version}\n`);
console.log(formatTable(rows));
console.log(`\nJSON: ${jsonPath}`);
process.exitCode = failed ? 1 : 0;
