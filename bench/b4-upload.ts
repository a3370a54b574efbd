import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { BenchConfig } from "./lib/config.js";
import { MB, MiB } from "./lib/proc.js";
import { type Row, fmt, verdictOf } from "./lib/report.js";
import { repoRoot } from "./lib/server.js";

const TARGET_RATIO = 0.8;
const TARGET_GROWTH_MB = 64;
const TARGET = `≥ ${TARGET_RATIO}x, growth < ${TARGET_GROWTH_MB} MB`;

/** The summary line bench/upload.ts prints last. */
interface UploadSummary {
  sizeMiB: number;
  rounds: number;
  bestMibPerSecond: Record<string, number>;
  medianMibPerSecond: Record<string, number>;
  ratio: number;
  medianRatio: number;
  ratioSynced: number;
  cpuSecondsPerGiB: Record<string, number>;
  peakGrowthBytes: number;
}

/**
 * B4: a 1 GiB upload (PUT /v1/assets/{path}, digest checked, fsynced) against a plain node:http
 * sink that pipes the body into a file, and the server's memory growth. The measuring is
 * bench/upload.ts (written with the uploads feature, also runnable alone); this runs it and
 * turns its summary line into the row.
 */
export async function benchUpload(config: BenchConfig): Promise<Row[]> {
  const script = join(repoRoot, "bench", "upload.ts");
  if (!existsSync(script)) {
    return [{ id: "B4", measure: "upload throughput", sdci: "not available: uploads not in main", baseline: "—", ratio: null, target: TARGET, verdict: "n/a", values: {} }];
  }
  const rounds = config.quick ? 1 : 3;
  config.progress(`B4: bench/upload.ts, ${rounds} rounds${config.quick ? " (quick)" : ""}`);
  const child = spawn(process.execPath, ["--import", "tsx", script, "--rounds", String(rounds), ...(config.quick ? ["--quick"] : [])], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
    for (const line of text.split("\n")) if (line.trim() && !line.startsWith("{")) config.progress(`B4: ${line.trim()}`);
  });
  const [code] = await once(child, "close");
  const summaryLine = stdout.split("\n").reverse().find((line) => line.startsWith('{"bench":"upload"'));
  if (!summaryLine) throw new Error(`bench/upload.ts exited with ${code} and no summary:\n${stdout}`);
  const summary = JSON.parse(summaryLine) as UploadSummary;
  const sdci = summary.bestMibPerSecond["sdci-server"]! * (MiB / MB);
  const plain = summary.bestMibPerSecond["plain sink"]! * (MiB / MB);
  const growthMb = summary.peakGrowthBytes / MB;
  const cpu = summary.cpuSecondsPerGiB;
  return [
    {
      id: "B4",
      measure: `upload throughput, ${summary.sizeMiB} MiB, best of ${summary.rounds}; server memory growth`,
      sdci: `${fmt(sdci, "MB/s")}, +${fmt(growthMb, "MB")}`,
      baseline: `${fmt(plain, "MB/s")} plain node:http pipeline to a file`,
      ratio: summary.ratio,
      target: TARGET,
      verdict: verdictOf(summary.ratio >= TARGET_RATIO && growthMb < TARGET_GROWTH_MB),
      note: [
        `from medians ${fmt(summary.medianRatio)}x`,
        `against the sink with fsync ${fmt(summary.ratioSynced)}x`,
        `CPU per GiB received: SDCI ${fmt(cpu["sdci-server"]!, "s")}, plain sink ${fmt(cpu["plain sink"]!, "s")}`,
      ].join("; "),
      values: { ...summary },
    },
  ];
}
