import { spawn } from "node:child_process";
import type { BenchConfig } from "./lib/config.js";
import { createWallClock } from "./lib/clock.js";
import { type Row, fmt, verdictOf } from "./lib/report.js";
import { scratchDir, startBenchServer, writeScript } from "./lib/server.js";
import { readEvents } from "./lib/sse.js";
import { type Summary, summarize } from "./lib/stats.js";

const TARGET_MEDIAN_MS = 5;
const BLOCKS = 4;

/**
 * The task: N lines, each the wall-clock time (µs, bash's EPOCHREALTIME: no fork, the same
 * CLOCK_REALTIME as the reader's) at which it is printed, with a pause between lines so each
 * one travels alone rather than batched with the next.
 */
function stampScript(lines: number): string {
  return `for ((i = 0; i < ${lines}; i++)); do echo "\${EPOCHREALTIME/./}"; sleep 0.004; done`;
}

/**
 * B2: the time from a task printing a line to an SSE client having parsed it, against the
 * same script read through a direct pipe. Blocks of each alternate, so load falls on both.
 */
export async function benchLineLatency(config: BenchConfig): Promise<Row[]> {
  const linesPerBlock = config.quick ? 25 : 125;
  const scratch = scratchDir("b2");
  const script = writeScript(scratch.path, "stamps", stampScript(linesPerBlock));
  const server = await startBenchServer({ tasks: { stamps: stampScript(linesPerBlock) } });
  let wallMicros = createWallClock();
  const latencies = { sdci: [] as number[], pipe: [] as number[] };
  /** Each complete line of `text` is a timestamp: its age now, in ms. */
  const record = (into: number[], text: string) => {
    const now = wallMicros();
    for (const line of text.split("\n")) if (line) into.push((now - Number(line)) / 1000);
  };
  try {
    config.progress(`B2: ${BLOCKS} blocks of ${linesPerBlock} lines, through SDCI and through a pipe`);
    for (let block = 0; block < BLOCKS; block++) {
      wallMicros = createWallClock();
      await new Promise<void>((resolve, reject) => {
        const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "inherit"] });
        let partial = "";
        child.stdout.setEncoding("utf8").on("data", (text: string) => {
          const cut = (partial + text).lastIndexOf("\n") + 1;
          record(latencies.pipe, (partial + text).slice(0, cut));
          partial = (partial + text).slice(cut);
        });
        child.once("error", reject);
        child.once("close", (code) => (code === 0 ? resolve() : reject(new Error(`stamps.sh exited with ${code}`))));
      });
      const response = await fetch(`${server.url}/v1/tasks/stamps/runs`, {
        method: "POST",
        headers: { ...server.auth, Accept: "text/event-stream" },
      });
      if (response.status !== 200) throw new Error(`SDCI answered ${response.status}: ${await response.text()}`);
      const exit = await readEvents(response, (message) => {
        if (message.event === "output") record(latencies.sdci, JSON.parse(message.data).text);
      });
      if (exit?.exitCode !== 0) throw new Error(`SDCI run ended with ${JSON.stringify(exit)}`);
    }
  } finally {
    await server.stop();
    scratch.remove();
  }
  const expected = BLOCKS * linesPerBlock;
  for (const [name, values] of Object.entries(latencies)) {
    if (values.length !== expected) throw new Error(`B2 ${name}: ${values.length} lines received, ${expected} printed`);
  }
  const sdci = summarize(latencies.sdci);
  const pipe = summarize(latencies.pipe);
  return [
    {
      id: "B2",
      measure: `line latency, ${expected} lines (median, p99)`,
      sdci: spread(sdci),
      baseline: `${spread(pipe)} same script through a direct pipe`,
      ratio: sdci.median / pipe.median,
      target: `median < ${TARGET_MEDIAN_MS} ms`,
      verdict: verdictOf(sdci.median < TARGET_MEDIAN_MS),
      values: { lines: expected, sdciMs: sdci, pipeMs: pipe, p99Ratio: sdci.p99 / pipe.p99 },
    },
  ];
}

function spread(summary: Summary): string {
  return `${fmt(summary.median, "ms")} (p99 ${fmt(summary.p99)})`;
}
