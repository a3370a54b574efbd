import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { once } from "node:events";
import { join } from "node:path";
import type { BenchConfig } from "./lib/config.js";
import { findOnPath } from "./lib/child.js";
import { type Row, fmt, verdictOf } from "./lib/report.js";
import { cliBin, repoRoot } from "./lib/server.js";
import { median } from "./lib/stats.js";

const TARGET_RATIO = 3;
const BASELINE = "node -e 0";
const COMMANDS = ["--version", "--help"];

interface Timing {
  command: string;
  medianMs: number;
  minMs: number;
}

/**
 * B5: wall time of `sdci-cli --version` and `--help` against `node -e 0`. With hyperfine
 * installed this runs bench/startup.sh (which also times sdci-server) and reads its JSON;
 * otherwise a timing loop spawns each command in turn. hyperfine times one command after the
 * other, so on a busy machine it runs in several short passes and the ratio is the median of
 * the passes' ratios: each pass's commands share that moment's load.
 */
export async function benchStartup(config: BenchConfig): Promise<Row[]> {
  const startupScript = join(repoRoot, "bench", "startup.sh");
  const useHyperfine = findOnPath("hyperfine") !== undefined && existsSync(startupScript);
  const passes = useHyperfine && !config.quick ? 4 : 1;
  const runs = config.quick ? 3 : useHyperfine ? 6 : 40;
  config.progress(`B5: ${passes} x ${runs} runs of each command, ${useHyperfine ? "hyperfine (bench/startup.sh)" : "timing loop"}`);
  const results: Timing[][] = [];
  for (let pass = 0; pass < passes; pass++) {
    results.push(useHyperfine ? await withHyperfine(startupScript, runs, 1) : await withLoop(runs));
  }
  const find = (timings: Timing[], match: (command: string) => boolean) => {
    const found = timings.find((timing) => match(timing.command));
    if (!found) throw new Error(`B5: a command is missing from ${timings.map((timing) => timing.command).join(", ")}`);
    return found.medianMs;
  };
  const isBase = (command: string) => command === BASELINE;
  const baseMs = median(results.map((timings) => find(timings, isBase)));
  const tool = useHyperfine ? "hyperfine" : "timing loop (hyperfine not installed)";
  return COMMANDS.map((flag) => {
    const isCli = (command: string) => command.endsWith(`cli/main.js ${flag}`);
    const cliMs = median(results.map((timings) => find(timings, isCli)));
    const ratio = median(results.map((timings) => find(timings, isCli) / find(timings, isBase)));
    return {
      id: "B5",
      measure: `sdci-cli ${flag}, ${passes > 1 ? `${passes} passes of ${runs}` : runs} runs (median)`,
      sdci: fmt(cliMs, "ms"),
      baseline: `${fmt(baseMs, "ms")} ${BASELINE}`,
      ratio,
      target: `≤ ${TARGET_RATIO}x`,
      verdict: verdictOf(ratio <= TARGET_RATIO),
      values: { passes, runs, tool, passResults: results },
    };
  });
}

/** bench/startup.sh (from issue 10) runs hyperfine and keeps its results in bench/results/startup.json. */
async function withHyperfine(script: string, runs: number, warmup: number): Promise<Timing[]> {
  const env = { ...process.env, RUNS: String(runs), WARMUP: String(warmup) };
  const child = spawn("bash", [script], { cwd: repoRoot, env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const [code] = await once(child, "close");
  if (code !== 0) throw new Error(`bench/startup.sh exited with ${code}: ${stderr}`);
  const { results } = JSON.parse(readFileSync(join(repoRoot, "bench", "results", "startup.json"), "utf8")) as {
    results: { command: string; median: number; min: number }[];
  };
  return results.map(({ command, median, min }) => ({ command, medianMs: median * 1000, minMs: min * 1000 }));
}

/** Each command in turn, `runs` times, after one warm-up round. */
async function withLoop(runs: number): Promise<Timing[]> {
  const commands: [string, string[]][] = [
    [BASELINE, ["-e", "0"]],
    ...COMMANDS.map((flag): [string, string[]] => [`node dist/cli/main.js ${flag}`, [cliBin, flag]]),
  ];
  const samples = new Map<string, number[]>(commands.map(([name]) => [name, []]));
  for (let round = -1; round < runs; round++) {
    for (const [name, args] of commands) {
      const started = performance.now();
      const child = spawn(process.execPath, args, { stdio: "ignore" });
      const [code] = await once(child, "close");
      if (code !== 0) throw new Error(`${name} exited with ${code}`);
      if (round >= 0) samples.get(name)!.push(performance.now() - started);
    }
  }
  return [...samples].map(([command, values]) => ({ command, medianMs: median(values), minMs: Math.min(...values) }));
}
