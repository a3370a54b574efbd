import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { BenchConfig } from "./lib/config.js";
import { timed } from "./lib/child.js";
import { startPlainServer } from "./lib/plain-server.js";
import { MB, MiB, cpuSecondsOf, memoryOf, resetPeak } from "./lib/proc.js";
import { type Row, fmt, verdictOf } from "./lib/report.js";
import { scratchDir, startBenchServer } from "./lib/server.js";
import { median } from "./lib/stats.js";

const TARGET_RATIO = 0.8;
const TARGET_GROWTH_MB = 64;
const CHUNK = randomBytes(MiB);

/** PUTs `size` bytes (one random MiB over and over, so the client reads no disk) and waits for the answer. */
function upload(url: string, size: number, headers: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: "PUT",
      headers: { ...headers, "Content-Type": "application/octet-stream", "Content-Length": String(size) },
    });
    req.once("error", reject);
    req.once("response", (response) => {
      let body = "";
      response.setEncoding("utf8").on("data", (text) => (body += text));
      response.once("end", () => (response.statusCode === 201 ? resolve() : reject(new Error(`${url}: ${response.statusCode} ${body}`))));
    });
    let sent = 0;
    const write = () => {
      while (sent < size) {
        const piece = size - sent >= CHUNK.length ? CHUNK : CHUNK.subarray(0, size - sent);
        sent += piece.length;
        if (!req.write(piece)) return void req.once("drain", write);
      }
      req.end();
    };
    write();
  });
}

/**
 * B4: a large upload (PUT /v1/assets/{path}) in MB/s, against the same client sending to a
 * plain node:http server that pipes the body into a file; and how much the SDCI server's
 * resident memory grows while it receives (peak reset just before, via clear_refs).
 */
export async function benchUpload(config: BenchConfig): Promise<Row[]> {
  const size = (config.quick ? 32 : 1024) * MiB;
  const rounds = config.quick ? 1 : 2;
  const server = await startBenchServer();
  const sinkDir = scratchDir("b4-sink");
  try {
    const contract = await (await fetch(`${server.url}/openapi.json`)).text();
    if (!contract.includes("/v1/assets/")) {
      return [
        {
          id: "B4",
          measure: "upload throughput",
          sdci: "not available: uploads not in main",
          baseline: "—",
          ratio: null,
          target: `≥ ${TARGET_RATIO}x, growth < ${TARGET_GROWTH_MB} MB`,
          verdict: "n/a",
          values: {},
        },
      ];
    }
    const sink = await startPlainServer("sink", sinkDir.path);
    const times = { sdci: [] as number[], sink: [] as number[] };
    let growth = 0;
    const cpu = { sdci: 0, sink: 0 };
    /** Times one upload and adds the CPU seconds the receiving process spent on it. */
    const measure = async (pid: number, into: keyof typeof cpu, send: () => Promise<void>) => {
      const before = cpuSecondsOf(pid);
      const ms = await timed(send);
      cpu[into] += cpuSecondsOf(pid) - before;
      return ms;
    };
    let peakReset = true;
    try {
      config.progress(`B4: ${rounds} rounds of ${size / MiB} MiB to SDCI and to a plain node:http sink`);
      for (let round = 0; round < rounds; round++) {
        times.sink.push(await measure(sink.pid, "sink", () => upload(`${sink.url}/upload`, size)));
        for (const file of readdirSync(sinkDir.path)) rmSync(join(sinkDir.path, file));
        peakReset &&= resetPeak(server.pid);
        const before = memoryOf(server.pid).rss;
        const name = `bench-${round}.bin`;
        times.sdci.push(await measure(server.pid, "sdci", () => upload(`${server.url}/v1/assets/${name}`, size, server.auth)));
        growth = Math.max(growth, memoryOf(server.pid).peak - before);
        rmSync(join(server.uploadsDir, name), { force: true });
      }
    } finally {
      await sink.stop();
    }
    const rate = (ms: number[]) => size / MB / (median(ms) / 1000);
    const sdciRate = rate(times.sdci);
    const sinkRate = rate(times.sink);
    const ratio = sdciRate / sinkRate;
    const growthMb = growth / MB;
    const perGiB = (rounds * size) / (1024 * MiB);
    return [
      {
        id: "B4",
        measure: `upload throughput, ${size / MiB} MiB file; server memory growth`,
        sdci: `${fmt(sdciRate, "MB/s")}, +${fmt(growthMb, "MB")}`,
        baseline: `${fmt(sinkRate, "MB/s")} plain node:http pipeline to a file`,
        ratio,
        target: `≥ ${TARGET_RATIO}x, growth < ${TARGET_GROWTH_MB} MB`,
        verdict: verdictOf(ratio >= TARGET_RATIO && growthMb < TARGET_GROWTH_MB),
        note: [
          `CPU per GiB received: SDCI ${fmt(cpu.sdci / perGiB, "s")}, plain sink ${fmt(cpu.sink / perGiB, "s")}`,
          ...(peakReset ? [] : ["VmHWM could not be reset: growth is measured from the server's start"]),
        ].join("; "),
        values: { cpuSeconds: cpu, size, rounds, sdciMs: times.sdci, sinkMs: times.sink, sdciMBps: sdciRate, sinkMBps: sinkRate, growthBytes: growth },
      },
    ];
  } finally {
    await server.stop();
    sinkDir.remove();
  }
}
