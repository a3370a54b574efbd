import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { RunEventLog } from "./run-event-log.js";

export type RunStatus = "running" | "succeeded" | "failed" | "timed_out" | "cancelled" | "interrupted";

export interface RunRecord {
  id: string;
  task: string;
  params: string[];
  status: RunStatus;
  exitCode: number | null;
  signal: string | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
}

/** Run ids sort by start time and carry no host detail: `20261203T160755123Z-a1b2c3`. */
export const RUN_ID_PATTERN = /^\d{8}T\d{9}Z-[0-9a-f]{6}$/;

const RECORD_FILE = "run.json";
const EVENTS_FILE = "events.sse";

/**
 * Runs on disk under `<dataDir>/runs/<id>/`: the record (`run.json`, replaced atomically) and
 * the event log (`events.sse`). Live runs are also kept in memory so readers share one log.
 */
export class RunStore {
  readonly #runsDir: string;
  readonly #live = new Map<string, { record: RunRecord; log: RunEventLog }>();

  constructor(dataDir: string) {
    this.#runsDir = join(dataDir, "runs");
  }

  async init(): Promise<void> {
    await mkdir(this.#runsDir, { recursive: true, mode: 0o700 });
  }

  /** Creates the run's folder, record and empty event log. */
  create(task: string, params: string[], startedAt = new Date()): { record: RunRecord; log: RunEventLog } {
    const id = newRunId(startedAt);
    mkdirSync(join(this.#runsDir, id), { mode: 0o700 });
    const record: RunRecord = {
      id,
      task,
      params,
      status: "running",
      exitCode: null,
      signal: null,
      startedAt: startedAt.toISOString(),
      finishedAt: null,
      durationMs: null,
    };
    this.save(record);
    const log = RunEventLog.create(join(this.#runsDir, id, EVENTS_FILE));
    const live = { record, log };
    this.#live.set(id, live);
    return live;
  }

  /** Writes the record through a temp file and rename, so a crash never leaves half a record. */
  save(record: RunRecord): void {
    const path = join(this.#runsDir, record.id, RECORD_FILE);
    writeFileSync(`${path}.tmp`, JSON.stringify(record), { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }

  /** The run is over: its record is final and it no longer needs to stay in memory. */
  release(id: string): void {
    this.#live.delete(id);
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const live = this.#live.get(id);
    if (live) return { ...live.record };
    if (!RUN_ID_PATTERN.test(id)) return undefined;
    try {
      return JSON.parse(await readFile(join(this.#runsDir, id, RECORD_FILE), "utf8")) as RunRecord;
    } catch {
      return undefined;
    }
  }

  /** The run's event log: the live one while it runs, else loaded from disk. */
  async log(id: string): Promise<RunEventLog | undefined> {
    const live = this.#live.get(id);
    if (live) return live.log;
    if (!RUN_ID_PATTERN.test(id)) return undefined;
    try {
      return await RunEventLog.load(join(this.#runsDir, id, EVENTS_FILE));
    } catch {
      return undefined;
    }
  }
}

function newRunId(at: Date): string {
  const stamp = at.toISOString().replace(/[-:.]/g, "");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}
