import { readFile, mkdir, stat } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { createApp } from "../api/app.js";
import { AuthThrottle, type AuthThrottleOptions, DEFAULT_AUTH_THROTTLE } from "../api/auth-throttle.js";
import { DEFAULT_MAX_STREAMS, StreamSlots } from "../api/stream-slots.js";
import { AssetUploads } from "../assets/asset-uploads.js";
import { deferContinueForUploads } from "../assets/expect-continue.js";
import { DEFAULT_REFUSED_BODY_DRAIN, type DrainBounds } from "../assets/refused-body.js";
import { sweepTempLeftovers } from "../assets/temp-sweeper.js";
import type { Logger } from "../logger.js";
import { packageRoot } from "../package-info.js";
import { OperationLock } from "../runner/operation-lock.js";
import { killLeftoversOfRun } from "../runner/process-group.js";
import { RunStore } from "../runner/run-store.js";
import { TaskCatalog } from "../runner/task-catalog.js";
import { TaskRunner } from "../runner/task-runner.js";
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from "./http-limits.js";
import { listen } from "./listen.js";
import { StartupError } from "./startup-error.js";
import { requireSeparateFolders } from "./separate-folders.js";
import { type TlsFiles, loadTlsCredentials } from "./tls.js";

export interface ServerOptions {
  host: string;
  port: number;
  token: string;
  tasksDir: string;
  uploadsDir: string;
  dataDir: string;
  taskTimeoutMs: number;
  killGraceMs: number;
  keepaliveMs: number;
  /** Largest upload body accepted, in bytes. */
  maxUploadBytes: number;
  /** Most entries a folder upload may hold. */
  maxUploadEntries: number;
  /** An upload whose body stalls this long is dropped (0: never). */
  uploadIdleTimeoutMs: number;
  /** How much of a body refused while it arrives is still read after the answer (default 10 s, 1 GiB). */
  refusedBodyDrain?: DrainBounds;
  /** Finished runs kept on disk (0: all). */
  keepRuns: number;
  logger: Logger;
  /** Log each run's parameters (off by default: they may hold things a log should not). */
  logParams?: boolean;
  /** Output that still arrives after a task exited is read for this long. */
  drainMs?: number;
  /** Timeouts and sizes every connection lives under. */
  limits?: Partial<HttpLimits>;
  /** Event and log streams open at once; more get 503. */
  maxStreams?: number;
  authThrottle?: AuthThrottleOptions;
  /** Serve HTTPS with this certificate and key. */
  tls?: TlsFiles;
}

export interface RunningServer {
  url: string;
  /** Stops accepting, stops the running task (status `interrupted`), ends every stream. */
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const tasksDir = resolve(options.tasksDir);
  const uploadsDir = resolve(options.uploadsDir);
  const dataDir = resolve(options.dataDir);
  if (!(await stat(tasksDir).catch(() => null))?.isDirectory()) {
    throw new StartupError(`the tasks folder ${tasksDir} does not exist (set --tasks-dir)`);
  }
  const limits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  if (limits.idleTimeoutMs > 0 && options.keepaliveMs >= limits.idleTimeoutMs) {
    throw new StartupError("--keepalive must be shorter than --idle-timeout, or idle event streams would be cut");
  }
  await requireSeparateFolders({ "--tasks-dir": tasksDir, "--uploads-dir": uploadsDir, "--data-dir": dataDir });
  const tls = options.tls ? await loadTlsCredentials(options.tls) : undefined;
  await mkdir(uploadsDir, { recursive: true });
  const swept = await sweepTempLeftovers(uploadsDir);
  if (swept > 0) options.logger.warn({ removed: swept }, "removed what uploads cut short by a crash left behind");
  const store = new RunStore(dataDir, { keepRuns: options.keepRuns });
  // A crash leaves its runs' process trees running; nothing else will ever stop them.
  for (const runId of await store.init()) {
    const killed = await killLeftoversOfRun(runId);
    options.logger.warn({ runId, killedProcesses: killed }, "run was interrupted by a server crash");
  }

  const lock = new OperationLock();
  const catalog = new TaskCatalog(tasksDir);
  const runner = new TaskRunner({
    store,
    lock,
    tasksDir,
    uploadsDir,
    secrets: [options.token],
    taskTimeoutMs: options.taskTimeoutMs,
    killGraceMs: options.killGraceMs,
    drainMs: options.drainMs ?? 1000,
    logger: options.logger,
    logParams: options.logParams ?? false,
  });
  const uploads = new AssetUploads({
    uploadsDir,
    maxBytes: options.maxUploadBytes,
    maxEntries: options.maxUploadEntries,
    idleTimeoutMs: shortestTimeout(options.uploadIdleTimeoutMs, limits.idleTimeoutMs),
    refusedBodyDrain: options.refusedBodyDrain ?? DEFAULT_REFUSED_BODY_DRAIN,
    lock,
  });
  const app = createApp({
    token: options.token,
    catalog,
    runner,
    store,
    lock,
    uploads,
    follow: { keepaliveMs: options.keepaliveMs },
    streams: new StreamSlots(options.maxStreams ?? DEFAULT_MAX_STREAMS),
    authThrottle: new AuthThrottle(options.authThrottle ?? DEFAULT_AUTH_THROTTLE),
    contractYaml: await readFile(join(packageRoot, "openapi.yaml"), "utf8"),
    logger: options.logger,
  });

  const server = await listen(app, { host: options.host, port: options.port, limits, tls });
  deferContinueForUploads(server);

  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `${tls ? "https" : "http"}://${host}:${port}`,
    close() {
      closing ??= (async () => {
        // Nothing new may start while the server stops: a run would outlive it.
        lock.close();
        uploads.stop();
        server.close();
        await runner.stopAll("interrupted");
        // Readers now hold the final `exit` event; give them a moment to take it, then hang up.
        await waitForIdle(server, 2000);
        server.closeAllConnections();
      })();
      return closing;
    },
  };
}

async function waitForIdle(server: Server, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    server.closeIdleConnections();
    const count = await new Promise<number>((done) => server.getConnections((_, n) => done(n ?? 0)));
    if (count === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The upload's own timer replaces the connection's idle timer on its socket, so it must be
 * the shorter of the two: a stalled upload may not outlive --idle-timeout. 0 means never.
 */
function shortestTimeout(a: number, b: number): number {
  if (a <= 0) return b;
  if (b <= 0) return a;
  return Math.min(a, b);
}
