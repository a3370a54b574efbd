import type { ChildProcess } from "node:child_process";
import type { Logger } from "../logger.js";
import { OutputDecoder, type OutputDecoderOptions, DEFAULT_DECODER_OPTIONS } from "./output-decoder.js";
import { childEnvironment } from "./child-environment.js";
import type { OperationLock } from "./operation-lock.js";
import { signalGroup, spawnInGroup, terminateGroup, waitForGroupExit } from "./process-group.js";
import { isDiskFull } from "./disk-full.js";
import type { RunEventLog } from "./run-event-log.js";
import { type RunRecord, type RunStatus, type RunStore, exitEventOf } from "./run-store.js";
import type { Task } from "./task-catalog.js";

export interface TaskRunnerOptions {
  store: RunStore;
  lock: OperationLock;
  tasksDir: string;
  uploadsDir: string;
  /** Values never handed to a task (the server token). */
  secrets: string[];
  /** 0: no limit. */
  taskTimeoutMs: number;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** How long output may still arrive after the task exited (background children hold the pipes). */
  drainMs: number;
  decoder?: OutputDecoderOptions;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Put each run's parameters in the log (they may carry what a log should not). */
  logParams?: boolean;
}

/** Thrown when the lock is held: the caller answers 429. */
export class BusyError extends Error {
  constructor() {
    super("the server is busy with another run or upload");
  }
}

/** Thrown when a run cannot even be recorded because the disk is full: the caller answers 507. */
export class StorageFullError extends Error {
  constructor() {
    super("the server's disk is full: the run could not be recorded, so it was not started");
  }
}

/** Why a client or the server stops a run, which decides its final status. */
type StopReason = Extract<RunStatus, "timed_out" | "cancelled" | "interrupted">;

/** A run the server ends itself because it cannot record it any more ends as `failed`. */
type ServerStop = StopReason | "failed";

interface ActiveRun {
  record: RunRecord;
  child: ChildProcess;
  /** False when the task had already exited on its own: nothing is stopped then. */
  stop(reason: ServerStop, why: string): boolean;
  done: Promise<RunRecord>;
}

/** Starts tasks under the global lock and sees each one through to its `exit` event. */
export class TaskRunner {
  readonly #options: TaskRunnerOptions;
  readonly #active = new Map<string, ActiveRun>();

  constructor(options: TaskRunnerOptions) {
    this.#options = options;
  }

  /**
   * Takes the lock and starts the task; throws BusyError when the lock is held. The run's
   * record and log exist before this returns, so a reader can attach at once.
   */
  start(task: Task, params: string[]): { record: RunRecord; log: RunEventLog; done: Promise<RunRecord> } {
    const { store, lock } = this.#options;
    const pending = { kind: "run" as const, id: "" };
    const release = lock.tryAcquire(pending);
    if (!release) throw new BusyError();
    try {
      const { record, log } = this.#record(task, params);
      pending.id = record.id;
      const active = this.#launch(task, record, log);
      const done = active.done.finally(() => {
        this.#active.delete(record.id);
        store.release(record.id);
        release();
        store.prune().catch(() => {});
      });
      this.#active.set(record.id, active);
      return { record: { ...record }, log, done };
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * Stops a running run (its whole process group); false when it is not running, or when its
   * task has exited and only its output is still being drained (its outcome is decided).
   */
  stop(id: string, reason: StopReason): boolean {
    return this.#active.get(id)?.stop(reason, this.#explain(reason)) ?? false;
  }

  /** Stops every run and waits until each has written its `exit` event. */
  async stopAll(reason: StopReason): Promise<void> {
    const runs = [...this.#active.values()];
    for (const run of runs) run.stop(reason, this.#explain(reason));
    await Promise.allSettled(runs.map((run) => run.done));
  }

  /** The run's record, log and first event; nothing is left on disk when one of them fails. */
  #record(task: Task, params: string[]): { record: RunRecord; log: RunEventLog } {
    const { store } = this.#options;
    let created;
    try {
      created = store.create(task.name, params);
    } catch (error) {
      throw isDiskFull(error) ? new StorageFullError() : error;
    }
    try {
      created.log.append("run", created.record);
      return created;
    } catch (error) {
      store.discard(created.record.id);
      throw isDiskFull(error) ? new StorageFullError() : error;
    }
  }

  #explain(reason: StopReason): string {
    switch (reason) {
      case "timed_out":
        return `the task ran longer than the server's task timeout (${this.#options.taskTimeoutMs / 1000} s)`;
      case "cancelled":
        return "a client cancelled the run";
      case "interrupted":
        return "the server was stopping";
    }
  }

  #launch(task: Task, record: RunRecord, log: RunEventLog): ActiveRun {
    const { tasksDir, uploadsDir, secrets, killGraceMs, drainMs, taskTimeoutMs } = this.#options;
    const env = childEnvironment(this.#options.env ?? process.env, secrets, {
      runId: record.id,
      task: task.name,
      uploadsDir,
    });
    const logger = this.#options.logger?.child({ runId: record.id, task: task.name });
    logger?.info(this.#options.logParams ? { params: record.params } : {}, "run started");
    const started = performance.now();
    const child = spawnInGroup("bash", [task.path, ...record.params], { cwd: tasksDir, env });

    let stopReason: ServerStop | null = null;
    let stopWhy: string | null = null;
    let stoppedAt = 0;
    let leaderExited = false;
    let cancelKill = () => {};
    const stop = (reason: ServerStop, why: string): boolean => {
      // Already being stopped: this stop is in effect too.
      if (stopReason) return true;
      // Once the task has exited on its own, its status is already decided.
      if (leaderExited || child.pid === undefined) return false;
      stopReason = reason;
      stopWhy = why;
      stoppedAt = performance.now();
      cancelKill = terminateGroup(child.pid, killGraceMs);
      return true;
    };
    const timeout =
      taskTimeoutMs > 0 ? setTimeout(() => stop("timed_out", this.#explain("timed_out")), taskTimeoutMs) : undefined;

    /**
     * Appends output to the log; when the disk refuses it, the run cannot keep its promise of
     * no lost line, so the task is stopped, the rest of its output is dropped, and the run
     * fails even if the task had already exited on its own.
     */
    let outputLost: string | null = null;
    const appendOutput = (stream: "stdout" | "stderr", text: string) => {
      if (outputLost) return;
      try {
        log.append("output", { stream, text });
      } catch (error) {
        outputLost = storageFailure(error);
        stop("failed", outputLost);
      }
    };

    const decoders = (["stdout", "stderr"] as const).map((stream) => {
      const decoder = new OutputDecoder(
        (text) => appendOutput(stream, text),
        this.#options.decoder ?? DEFAULT_DECODER_OPTIONS,
      );
      const pipe = child[stream]!;
      pipe.on("data", (bytes: Buffer) => decoder.push(bytes));
      const closed = new Promise<void>((resolve) => pipe.once("close", resolve));
      return { decoder, pipe, closed };
    });

    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
      child.once("error", (error) => resolve({ code: null, signal: null, error }));
    });

    const done = (async () => {
      const { code, signal, error } = await exited;
      leaderExited = true;
      clearTimeout(timeout);
      if (stopReason && child.pid !== undefined) {
        // The leader may die at once while its children still clean up: they get the rest of
        // the grace period, then whatever is left of the group is killed.
        const rest = killGraceMs - (performance.now() - stoppedAt);
        if (!(await waitForGroupExit(child.pid, rest))) signalGroup(child.pid, "SIGKILL");
        cancelKill();
      }
      // A background child may keep the pipes open for ever: read what comes within the drain.
      let drainTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(decoders.map((d) => d.closed)),
        new Promise((resolve) => (drainTimer = setTimeout(resolve, drainMs))),
      ]);
      clearTimeout(drainTimer);
      for (const { decoder, pipe } of decoders) {
        pipe.removeAllListeners("data");
        pipe.destroy();
        decoder.end();
      }
      if (error) appendOutput("stderr", `sdci: could not start the task: ${error.message}\n`);
      const status: RunStatus = outputLost ? "failed" : (stopReason ?? (code === 0 ? "succeeded" : "failed"));
      Object.assign(record, {
        status,
        exitCode: code,
        signal,
        finishedAt: new Date().toISOString(),
        durationMs: Math.round(performance.now() - started),
        reason: outputLost ?? stopWhy,
      } satisfies Partial<RunRecord>);
      this.#finish(record, log, logger);
      const { status: finalStatus, exitCode, signal: finalSignal, durationMs, reason } = record;
      logger?.info({ status: finalStatus, exitCode, signal: finalSignal, durationMs, reason }, "run finished");
      return { ...record };
    })();

    return { record, child, stop, done };
  }

  /**
   * Persists the final record and the `exit` event as far as the disk allows. Whatever fails,
   * the log is finished so every reader ends, and the record in memory tells the truth.
   */
  #finish(record: RunRecord, log: RunEventLog, logger: Logger | undefined): void {
    try {
      this.#options.store.save(record);
    } catch (error) {
      logger?.error({ code: errorCode(error) }, "could not save the run's final record");
    }
    try {
      log.append("exit", exitEventOf(record));
    } catch (error) {
      // Readers then end without an `exit` event and find the outcome in the run's record.
      logger?.error({ code: errorCode(error) }, "could not write the run's exit event");
    }
    try {
      log.finish();
    } catch (error) {
      logger?.error({ code: errorCode(error) }, "could not close the run's event log");
    }
  }
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}

/** What a reader is told when the run's output could not be stored. */
function storageFailure(error: unknown): string {
  const what = isDiskFull(error) ? "the server's disk is full" : `the server could not write (${errorCode(error)})`;
  return `${what}: the run's output could not be stored, so the task was stopped`;
}
