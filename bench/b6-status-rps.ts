import autocannon from "autocannon";
import type { BenchConfig } from "./lib/config.js";
import { startPlainServer } from "./lib/plain-server.js";
import { cpuSecondsOf } from "./lib/proc.js";
import { type Row, fmt, verdictOf } from "./lib/report.js";
import { startBenchServer } from "./lib/server.js";
import { median } from "./lib/stats.js";

const TARGET_RATIO = 0.5;
const CONNECTIONS = 10;
/**
 * The plain handler run a second time, made to spend this much CPU per request before it
 * answers: about what a CPU profile shows SDCI's own code (routing, token check, log line)
 * spending per status request. Its rate shows how far that much work alone moves the ratio.
 */
const BUSY_MICROS = 20;

/** CPU seconds and requests that each server spent and served in the counted rounds. */
const spent = {
  plain: { cpu: 0, requests: 0 },
  info: { cpu: 0, requests: 0 },
  warn: { cpu: 0, requests: 0 },
  busy: { cpu: 0, requests: 0 },
};

/**
 * Requests per second that autocannon gets from `url` in `seconds`, adding the server's CPU
 * time and request count to `into`; throws on errors or non-2xx answers.
 */
async function requestsPerSecond(
  url: string,
  pid: number,
  seconds: number,
  into?: { cpu: number; requests: number },
  headers: Record<string, string> = {},
): Promise<number> {
  const cpuBefore = cpuSecondsOf(pid);
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers });
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`);
  }
  if (into) {
    into.cpu += cpuSecondsOf(pid) - cpuBefore;
    into.requests += result.requests.total;
  }
  return result.requests.average;
}

/**
 * B6: requests per second on GET /v1/status (token checked, one log line per request) against
 * a plain node:http handler, each in its own process; SDCI once at the default log level and
 * once at --log-level warn. Rounds alternate the three so load on the machine falls on all.
 */
export async function benchStatusRps(config: BenchConfig): Promise<Row[]> {
  const seconds = config.quick ? 1 : 4;
  const rounds = config.quick ? 1 : 4;
  const plain = await startPlainServer("status");
  const busy = await startPlainServer("status", String(BUSY_MICROS));
  const info = await startBenchServer({ logLevel: "info" });
  const warn = await startBenchServer({ logLevel: "warn" });
  const targets = {
    plain: (duration: number, into?: typeof spent.plain) => requestsPerSecond(`${plain.url}/v1/status`, plain.pid, duration, into),
    info: (duration: number, into?: typeof spent.info) => requestsPerSecond(`${info.url}/v1/status`, info.pid, duration, into, info.auth),
    warn: (duration: number, into?: typeof spent.warn) => requestsPerSecond(`${warn.url}/v1/status`, warn.pid, duration, into, warn.auth),
    busy: (duration: number, into?: typeof spent.busy) => requestsPerSecond(`${busy.url}/v1/status`, busy.pid, duration, into),
  };
  const samples = { plain: [] as number[], info: [] as number[], warn: [] as number[], busy: [] as number[] };
  try {
    config.progress(`B6: ${rounds} rounds of ${seconds} s each against plain node:http, SDCI (info), SDCI (warn), plain + ${BUSY_MICROS} µs`);
    // A first second each, not counted: the JIT warms up on the same code the rounds run.
    // Quick mode skips it: it only shows the benchmark still runs, next to other tests.
    if (!config.quick) for (const run of Object.values(targets)) await run(1);
    const names = Object.keys(targets) as (keyof typeof targets)[];
    for (let round = 0; round < rounds; round++) {
      // The order turns each round, so none of the three always follows the same one.
      const turn = round % names.length;
      for (const name of [...names.slice(turn), ...names.slice(0, turn)]) samples[name].push(await targets[name](seconds, spent[name]));
    }
  } finally {
    await Promise.all([plain.stop(), info.stop(), warn.stop(), busy.stop()]);
  }
  const plainRps = median(samples.plain);
  const infoRps = median(samples.info);
  const warnRps = median(samples.warn);
  // Paired by round: each round's three figures share that moment's load on the machine.
  const paired = (a: number[], b: number[]) => a.map((value, index) => value / b[index]!);
  const ratio = median(paired(samples.info, samples.plain));
  const warnOverInfo = paired(samples.warn, samples.info);
  const warnChange = median(warnOverInfo) - 1;
  const cpuPerRequest = (name: keyof typeof spent) => (spent[name].cpu / spent[name].requests) * 1e6;
  const cpuNote = `server CPU per request: SDCI ${fmt(cpuPerRequest("info"), "µs")} (warn ${fmt(cpuPerRequest("warn"), "µs")}), plain ${fmt(cpuPerRequest("plain"), "µs")}, plain + ${BUSY_MICROS} µs of work ${fmt(cpuPerRequest("busy"), "µs")}`;
  const spread = `${percent(Math.min(...warnOverInfo) - 1)} to ${percent(Math.max(...warnOverInfo) - 1)}`;
  return [
    {
      id: "B6",
      measure: `GET /v1/status req/s, ${CONNECTIONS} connections, log level info (stdout to /dev/null)`,
      sdci: fmt(infoRps, "req/s"),
      baseline: `${fmt(plainRps, "req/s")} plain node:http handler`,
      ratio,
      target: `≥ ${TARGET_RATIO}x`,
      verdict: verdictOf(ratio >= TARGET_RATIO),
      note: cpuNote,
      values: { spent, seconds, rounds, connections: CONNECTIONS, plain: samples.plain, info: samples.info, warn: samples.warn },
    },
    {
      id: "B6",
      measure: "GET /v1/status req/s at --log-level warn (no request lines)",
      sdci: fmt(warnRps, "req/s"),
      baseline: `${fmt(plainRps, "req/s")} plain node:http handler`,
      ratio: median(paired(samples.warn, samples.plain)),
      target: "",
      verdict: "info",
      note: `--log-level warn against info, paired by round: ${percent(warnChange)} (median; rounds ${spread})`,
      values: { warnChange, warnOverInfo },
    },
    {
      id: "B6",
      measure: `the plain handler made to spend ${BUSY_MICROS} µs of CPU per request (about SDCI's own work per request)`,
      sdci: `${fmt(median(samples.busy), "req/s")} (not SDCI)`,
      baseline: `${fmt(plainRps, "req/s")} plain node:http handler`,
      ratio: median(paired(samples.busy, samples.plain)),
      target: "",
      verdict: "info",
      note:
        `with client and server sharing two cores, each µs of handler work also makes the socket write dearer ` +
        `(the client has gone to sleep and must be woken): plain + ${BUSY_MICROS} µs against SDCI (info), paired by round: ` +
        `${percent(median(paired(samples.busy, samples.info)) - 1)}`,
      values: { busyMicros: BUSY_MICROS, busy: samples.busy },
    },
  ];
}

function percent(change: number): string {
  return `${change >= 0 ? "+" : ""}${(change * 100).toFixed(0)}%`;
}
