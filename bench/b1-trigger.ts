import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchConfig } from "./lib/config.js";
import { findOnPath, runToExit, timed } from "./lib/child.js";
import { type Row, fmt, verdictOf } from "./lib/report.js";
import { freePort, scratchDir, startBenchServer, stopProcess, waitForHttp, writeScript } from "./lib/server.js";
import { readEvents } from "./lib/sse.js";
import { type Summary, summarize } from "./lib/stats.js";

const TRIVIAL_TASK = "true";
const TARGET_RATIO = 3;

/** A trigger: one timed run of the trivial task, resolving once its exit is known. */
type Trigger = () => Promise<void>;

/**
 * B1: from the trigger to the known exit of a trivial task, over HTTP through SDCI (POST with
 * Accept: text/event-stream, read to the `exit` event), against `bash true.sh` spawned
 * directly and against Debian's `webhook` running the same script. The three are measured in
 * turn within each round, so load on the machine falls on all of them alike.
 */
export async function benchTrigger(config: BenchConfig): Promise<Row[]> {
  const runs = config.quick ? 30 : 200;
  const warmup = config.quick ? 3 : 10;
  const scratch = scratchDir("b1");
  const script = writeScript(scratch.path, TRIVIAL_TASK, TRIVIAL_TASK);
  const server = await startBenchServer({ tasks: { [TRIVIAL_TASK]: TRIVIAL_TASK } });
  const webhookBin = findOnPath("webhook");
  const webhook = webhookBin ? await startWebhook(webhookBin, scratch.path, script) : undefined;
  let busyRetries = 0;
  try {
    const triggers: Record<string, Trigger> = {
      direct: async () => {
        const code = await runToExit("bash", [script]);
        if (code !== 0) throw new Error(`bash ${TRIVIAL_TASK}.sh exited with ${code}`);
      },
      sdci: async () => {
        for (;;) {
          const response = await fetch(`${server.url}/v1/tasks/${TRIVIAL_TASK}/runs`, {
            method: "POST",
            headers: { ...server.auth, Accept: "text/event-stream" },
          });
          // The lock is released as the stream ends; a start that comes first is told to wait.
          if (response.status === 429) {
            await response.arrayBuffer();
            busyRetries += 1;
            continue;
          }
          if (response.status !== 200) throw new Error(`SDCI answered ${response.status}: ${await response.text()}`);
          const exit = await readEvents(response);
          if (exit?.exitCode !== 0) throw new Error(`SDCI run ended with ${JSON.stringify(exit)}`);
          return;
        }
      },
    };
    if (webhook) {
      triggers.webhook = async () => {
        const response = await fetch(webhook.hookUrl, { method: "POST" });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
      };
    }
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(triggers).map((name) => [name, []]));
    config.progress(`B1: ${runs} runs each of ${Object.keys(triggers).join(", ")}`);
    for (let round = -warmup; round < runs; round++) {
      for (const [name, trigger] of Object.entries(triggers)) {
        const ms = await timed(trigger);
        if (round >= 0) samples[name]!.push(ms);
      }
    }
    const direct = summarize(samples.direct!);
    const sdci = summarize(samples.sdci!);
    const ratio = sdci.median / direct.median;
    const rows: Row[] = [
      {
        id: "B1",
        measure: `trigger→exit, trivial task, ${runs} runs (median, p95)`,
        sdci: latency(sdci),
        baseline: `${latency(direct)} bash ${TRIVIAL_TASK}.sh spawned directly`,
        ratio,
        target: `≤ ${TARGET_RATIO}x`,
        verdict: verdictOf(ratio <= TARGET_RATIO),
        note: busyRetries > 0 ? `${busyRetries} starts were answered 429 (lock not yet released) and retried` : undefined,
        values: { runs, sdciMs: sdci, directMs: direct, busyRetries, p95Ratio: sdci.p95 / direct.p95 },
      },
    ];
    if (webhook) {
      const hook = summarize(samples.webhook!);
      rows.push({
        id: "B1",
        measure: "trigger→exit against Debian's webhook (median, p95)",
        sdci: latency(sdci),
        baseline: `${latency(hook)} webhook ${webhook.version}, same script, output in the response`,
        ratio: sdci.median / hook.median,
        target: "",
        verdict: "info",
        values: { sdciMs: sdci, webhookMs: hook, webhookVersion: webhook.version },
      });
    } else {
      rows.push({
        id: "B1",
        measure: "trigger→exit against Debian's webhook",
        sdci: latency(sdci),
        baseline: "not measured",
        ratio: null,
        target: "",
        verdict: "n/a",
        note: "webhook is not installed (apt-get install webhook) so this column is skipped",
        values: {},
      });
    }
    return rows;
  } finally {
    if (webhook) await webhook.stop();
    await server.stop();
    scratch.remove();
  }
}

function latency(summary: Summary): string {
  return `${fmt(summary.median, "ms")} (p95 ${fmt(summary.p95)})`;
}

/** Debian's `webhook` on loopback, serving one hook that runs `bash <script>` and returns its output. */
async function startWebhook(bin: string, dir: string, script: string) {
  const hooksFile = join(dir, "hooks.json");
  writeFileSync(
    hooksFile,
    JSON.stringify([
      {
        id: TRIVIAL_TASK,
        "execute-command": findOnPath("bash") ?? "/bin/bash",
        "command-working-directory": dir,
        "include-command-output-in-response": true,
        "pass-arguments-to-command": [{ source: "string", name: script }],
      },
    ]),
  );
  let version = "";
  const versionChild = spawn(bin, ["-version"]);
  versionChild.stdout.on("data", (chunk) => (version += chunk));
  await new Promise((resolve) => versionChild.once("close", resolve));
  const port = await freePort();
  const child = spawn(bin, ["-hooks", hooksFile, "-ip", "127.0.0.1", "-port", String(port)], { stdio: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/`, child);
  return {
    hookUrl: `${base}/hooks/${TRIVIAL_TASK}`,
    version: /version\s+(\S+)/.exec(version)?.[1] ?? "?",
    stop: () => stopProcess(child),
  };
}
