import { randomBytes } from "node:crypto";
import { closeSync, ftruncateSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { mkdir, readFile, readdir, rm, stat } from "node:fs/promises";
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
  /** Why the server ended the run itself (timeout, cancel, a full disk); null when the task ended on its own. */
  reason: string | null;
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
  readonly #keepRuns: number;
  readonly #live = new Map<string, { record: RunRecord; log: RunEventLog }>();
  /** Runs whose latest record could not be written: memory holds the truth until a restart. */
  readonly #unsaved = new Set<string>();

  /** `keepRuns`: how many finished runs stay on disk (0: all). */
  constructor(dataDir: string, { keepRuns = 0 } = {}) {
    this.#runsDir = join(dataDir, "runs");
    this.#keepRuns = keepRuns;
  }

  /**
   * Creates the folder, closes the runs a crash left `running` as `interrupted`, prunes.
   * Returns the ids of those interrupted runs.
   */
  async init(): Promise<string[]> {
    await mkdir(this.#runsDir, { recursive: true, mode: 0o700 });
    const interrupted: string[] = [];
    for (const id of await this.#ids()) {
      const record = await this.get(id);
      if (!record) {
        // Created but never recorded: the server died between mkdir and the first write.
        await rm(join(this.#runsDir, id), { recursive: true, force: true });
      } else if (record.status === "running") {
        await this.#closeInterrupted(record);
        interrupted.push(id);
      }
    }
    await this.prune();
    return interrupted;
  }

  /** Runs, newest first, optionally of one task only. */
  async list({ task, limit }: { task?: string; limit: number }): Promise<RunRecord[]> {
    const runs: RunRecord[] = [];
    for (const id of (await this.#ids()).reverse()) {
      if (runs.length >= limit) break;
      const record = await this.get(id);
      if (record && (task === undefined || record.task === task)) runs.push(record);
    }
    return runs;
  }

  /** Removes the oldest finished runs beyond the retention limit. */
  async prune(): Promise<void> {
    if (this.#keepRuns <= 0) return;
    const finished = (await this.#ids()).filter((id) => !this.#live.has(id));
    const excess = finished.slice(0, Math.max(0, finished.length - this.#keepRuns));
    await Promise.all(excess.map((id) => rm(join(this.#runsDir, id), { recursive: true, force: true })));
  }

  /**
   * Creates the run's folder, record and empty event log. When one of them cannot be written
   * (a full disk) it throws and leaves nothing behind.
   */
  create(task: string, params: string[], startedAt = new Date()): { record: RunRecord; log: RunEventLog } {
    const id = newRunId(startedAt);
    const dir = join(this.#runsDir, id);
    mkdirSync(dir, { mode: 0o700 });
    try {
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
        reason: null,
      };
      this.save(record);
      const log = RunEventLog.create(join(dir, EVENTS_FILE));
      const live = { record, log };
      this.#live.set(id, live);
      return live;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Removes a run that never started: its log is closed and its folder gone. */
  discard(id: string): void {
    const live = this.#live.get(id);
    this.#live.delete(id);
    try {
      live?.log.finish();
    } finally {
      rmSync(join(this.#runsDir, id), { recursive: true, force: true });
    }
  }

  /**
   * Writes the record through a temp file and rename, so a crash never leaves half a record.
   * On a full disk the temp file cannot be written: the record is then rewritten in place,
   * which needs no new block (a record is far smaller than the block it already holds).
   */
  save(record: RunRecord): void {
    const path = join(this.#runsDir, record.id, RECORD_FILE);
    const text = JSON.stringify(record);
    try {
      writeFileSync(`${path}.tmp`, text, { mode: 0o600 });
      renameSync(`${path}.tmp`, path);
    } catch (error) {
      rmSync(`${path}.tmp`, { force: true });
      if (!rewriteInPlace(path, text)) {
        this.#unsaved.add(record.id);
        throw error;
      }
    }
    this.#unsaved.delete(record.id);
  }

  /** The run is over: its record is final and, once on disk, no longer needs to stay in memory. */
  release(id: string): void {
    if (!this.#unsaved.has(id)) this.#live.delete(id);
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const live = this.#live.get(id);
    if (live) return { ...live.record };
    if (!RUN_ID_PATTERN.test(id)) return undefined;
    try {
      // Records written before `reason` existed lack it.
      return { reason: null, ...JSON.parse(await readFile(join(this.#runsDir, id, RECORD_FILE), "utf8")) } as RunRecord;
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

  /** Ids sort by start time, so name order is age order. */
  async #ids(): Promise<string[]> {
    const names = await readdir(this.#runsDir).catch(() => [] as string[]);
    return names.filter((name) => RUN_ID_PATTERN.test(name)).sort();
  }

  /** A run the server died during: its log gets the `exit` event it never had. */
  async #closeInterrupted(record: RunRecord): Promise<void> {
    const logPath = join(this.#runsDir, record.id, EVENTS_FILE);
    const lastWrite = await stat(logPath).then((s) => s.mtime, () => new Date(record.startedAt));
    const finished: RunRecord = {
      ...record,
      status: "interrupted",
      reason: "the server stopped while the task was running",
      finishedAt: lastWrite.toISOString(),
      durationMs: Math.max(0, lastWrite.getTime() - Date.parse(record.startedAt)),
    };
    try {
      const log = await RunEventLog.load(logPath, { reopen: true });
      log.append("exit", exitEventOf(finished));
      log.finish();
    } catch {
      // No log to mend (it was never created): the record alone tells the story.
    }
    this.save(finished);
  }
}

/** Overwrites an existing file with `text` without allocating a new one; false when that fails too. */
function rewriteInPlace(path: string, text: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r+");
    const bytes = Buffer.from(text);
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written, written);
    ftruncateSync(fd, bytes.length);
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The data of a run's last event, from its final record. */
export function exitEventOf(record: RunRecord) {
  const { status, exitCode, signal, durationMs, reason } = record;
  return { status, exitCode, signal, durationMs, reason };
}

function newRunId(at: Date): string {
  const stamp = at.toISOString().replace(/[-:.]/g, "");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}
