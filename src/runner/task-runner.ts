import type { ChildProcess } from "node:child_process";
import type { Logger } from "../logger.js";
import { OutputDecoder, type OutputDecoderOptions, DEFAULT_DECODER_OPTIONS } from "./output-decoder.js";
import { childEnvironment } from "./child-environment.js";
import type { OperationLock } from "./operation-lock.js";
import { signalGroup, spawnInGroup, terminateGroup, waitForGroupExit } from "./process-group.js";
import type { RunEventLog } from "./run-event-log.js";
import type { RunRecord, RunStatus, RunStore } from "./run-store.js";
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

/** Why a run was stopped from outside, which decides its final status. */
type StopReason = Extract<RunStatus, "timed_out" | "cancelled" | "interrupted">;

interface ActiveRun {
  record: RunRecord;
  child: ChildProcess;
  stop(reason: StopReason): void;
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
      const { record, log } = store.create(task.name, params);
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

  /** Stops a running run (its whole process group); false when it is not running. */
  stop(id: string, reason: StopReason): boolean {
    const active = this.#active.get(id);
    if (!active) return false;
    active.stop(reason);
    return true;
  }

  /** Stops every run and waits until each has written its `exit` event. */
  async stopAll(reason: StopReason): Promise<void> {
    const runs = [...this.#active.values()];
    for (const run of runs) run.stop(reason);
    await Promise.allSettled(runs.map((run) => run.done));
  }

  #launch(task: Task, record: RunRecord, log: RunEventLog): ActiveRun {
    const { tasksDir, uploadsDir, secrets, killGraceMs, drainMs, taskTimeoutMs, store } = this.#options;
    const env = childEnvironment(this.#options.env ?? process.env, secrets, {
      runId: record.id,
      task: task.name,
      uploadsDir,
    });
    log.append("run", record);
    const logger = this.#options.logger?.child({ runId: record.id, task: task.name });
    logger?.info(this.#options.logParams ? { params: record.params } : {}, "run started");
    const started = performance.now();
    const child = spawnInGroup("bash", [task.path, ...record.params], { cwd: tasksDir, env });

    let stopReason: StopReason | null = null;
    let stoppedAt = 0;
    let leaderExited = false;
    let cancelKill = () => {};
    const stop = (reason: StopReason) => {
      // Once the task has exited on its own, its status is already decided.
      if (stopReason || leaderExited || child.pid === undefined) return;
      stopReason = reason;
      stoppedAt = performance.now();
      cancelKill = terminateGroup(child.pid, killGraceMs);
    };
    const timeout = taskTimeoutMs > 0 ? setTimeout(() => stop("timed_out"), taskTimeoutMs) : undefined;

    const decoders = (["stdout", "stderr"] as const).map((stream) => {
      const decoder = new OutputDecoder(
        (text) => log.append("output", { stream, text }),
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
      if (error) log.append("output", { stream: "stderr", text: `sdci: could not start the task: ${error.message}\n` });
      const status: RunStatus = stopReason ?? (code === 0 ? "succeeded" : "failed");
      const finishedAt = new Date();
      Object.assign(record, {
        status,
        exitCode: code,
        signal,
        finishedAt: finishedAt.toISOString(),
        durationMs: Math.round(performance.now() - started),
      } satisfies Partial<RunRecord>);
      store.save(record);
      log.append("exit", {
        status,
        exitCode: record.exitCode,
        signal: record.signal,
        durationMs: record.durationMs,
      });
      log.finish();
      const { status: finalStatus, exitCode, signal: finalSignal, durationMs } = record;
      logger?.info({ status: finalStatus, exitCode, signal: finalSignal, durationMs }, "run finished");
      return { ...record };
    })();

    return { record, child, stop, done };
  }
}
