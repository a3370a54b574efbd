import { spawn } from "node:child_process";
import { once } from "node:events";
import { openSync, closeSync } from "node:fs";
import { type IncomingMessage, request as httpRequest } from "node:http";
import type { BenchConfig } from "./lib/config.js";
import { timed } from "./lib/child.js";
import { MB, cpuSecondsOf, memoryOf } from "./lib/proc.js";
import { type Row, fmt, verdictOf } from "./lib/report.js";
import { scratchDir, startBenchServer, writeScript } from "./lib/server.js";
import { median } from "./lib/stats.js";

const TARGET_RATIO = 0.5;
const TARGET_PEAK_MB = 150;

/** The task: `bytes` of 100-character log lines, as fast as `yes` writes them. */
function floodScript(bytes: number): string {
  return `yes '${"x".repeat(99)}' | head -c ${bytes}`;
}

/**
 * B3: a task writing a lot of output, in MB/s of the task's output received by an SSE client
 * (it reads the stream to its end and checks the exit event), against the same script writing
 * to /dev/null; and the server's peak resident memory (VmHWM) while it carried that output.
 * The client counts bytes rather than parsing every event, so the figure is the server's.
 */
export async function benchOutputThroughput(config: BenchConfig): Promise<Row[]> {
  const bytes = (config.quick ? 10 : 200) * MB;
  const rounds = config.quick ? 1 : 3;
  const scratch = scratchDir("b3");
  const script = writeScript(scratch.path, "flood", floodScript(bytes));
  const server = await startBenchServer({ tasks: { flood: floodScript(bytes) } });
  const times = { sdci: [] as number[], devnull: [] as number[] };
  let streamBytes = 0;
  let serverCpu = 0;
  try {
    config.progress(`B3: ${rounds} rounds of ${bytes / MB} MB through SDCI and to /dev/null`);
    for (let round = 0; round < rounds; round++) {
      times.devnull.push(
        await timed(async () => {
          const devnull = openSync("/dev/null", "w");
          const child = spawn("bash", [script], { stdio: ["ignore", devnull, "inherit"] });
          closeSync(devnull);
          const [code] = await once(child, "close");
          if (code !== 0) throw new Error(`flood.sh exited with ${code}`);
        }),
      );
      const cpuBefore = cpuSecondsOf(server.pid);
      times.sdci.push(
        await timed(async () => {
          streamBytes = await readToEnd(server.url, server.auth);
        }),
      );
      serverCpu += cpuSecondsOf(server.pid) - cpuBefore;
    }
    const peak = memoryOf(server.pid).peak;
    const rate = (ms: number[]) => bytes / MB / (median(ms) / 1000);
    const sdciRate = rate(times.sdci);
    const devnullRate = rate(times.devnull);
    const ratio = sdciRate / devnullRate;
    const peakMb = peak / MB;
    const cpuPer100MB = serverCpu / ((rounds * bytes) / (100 * MB));
    return [
      {
        id: "B3",
        measure: `output throughput, ${bytes / MB} MB task output to an SSE client; server peak RSS`,
        sdci: `${fmt(sdciRate, "MB/s")}, peak ${fmt(peakMb, "MB")}`,
        baseline: `${fmt(devnullRate, "MB/s")} same script > /dev/null`,
        ratio,
        target: `≥ ${TARGET_RATIO}x, peak < ${TARGET_PEAK_MB} MB`,
        verdict: verdictOf(ratio >= TARGET_RATIO && peakMb < TARGET_PEAK_MB),
        note: `the server used ${fmt(cpuPer100MB, "CPU s")} per 100 MB of output (decode, JSON-frame, write to the run's log, read back, send)`,
        values: { serverCpuSeconds: serverCpu, cpuPer100MB, bytes, rounds, sdciMs: times.sdci, devnullMs: times.devnull, sdciMBps: sdciRate, devnullMBps: devnullRate, serverPeakBytes: peak, streamBytes },
      },
    ];
  } finally {
    await server.stop();
    scratch.remove();
  }
}

/**
 * Starts the flood task as an SSE stream and reads it to the end with node:http; returns the
 * bytes read. Not fetch: undici's web streams in Node 20 topped out near 125 MB/s, so the
 * figure was the client's, not the server's (curl -N reads the same stream twice as fast).
 */
async function readToEnd(url: string, auth: Record<string, string>): Promise<number> {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const request = httpRequest(`${url}/v1/tasks/flood/runs`, { method: "POST", headers: { ...auth, Accept: "text/event-stream" } }, resolve);
    request.on("error", reject);
    request.end();
  });
  if (response.statusCode !== 200) {
    response.resume();
    throw new Error(`SDCI answered ${response.statusCode}`);
  }
  let total = 0;
  let tail = "";
  for await (const chunk of response as AsyncIterable<Buffer>) {
    total += chunk.length;
    tail = (tail + chunk.subarray(Math.max(0, chunk.length - 512)).toString("latin1")).slice(-512);
  }
  const exit = /event: exit\ndata: (.*)\n\n$/.exec(tail);
  if (!exit || JSON.parse(exit[1]!).exitCode !== 0) throw new Error(`the flood run did not end well: ${tail.slice(-200)}`);
  return total;
}
