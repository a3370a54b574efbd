import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const repoRoot = join(import.meta.dirname, "..", "..");
export const serverBin = join(repoRoot, "dist", "server", "main.js");
export const cliBin = join(repoRoot, "dist", "cli", "main.js");

/** A scratch folder for one benchmark, removed by the returned function. */
export function scratchDir(label: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `sdci-bench-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Writes `<dir>/<name>.sh` (bash) and returns its path. */
export function writeScript(dir: string, name: string, body: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.sh`);
  writeFileSync(path, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** A free loopback port (asked of the kernel, then released for the server to take). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, "close");
  return port;
}

/** Polls `url` until it answers (any HTTP status), or throws after `ms`. */
export async function waitForHttp(url: string, child: ChildProcess, ms = 30_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${url}: the server exited early`);
    try {
      await (await fetch(url, { signal: AbortSignal.timeout(2000) })).arrayBuffer();
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

/** Sends SIGTERM and waits for the exit (SIGKILL after `ms`). */
export async function stopProcess(child: ChildProcess, ms = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  await exited;
  clearTimeout(timer);
}

export interface BenchServer {
  url: string;
  token: string;
  pid: number;
  tasksDir: string;
  uploadsDir: string;
  auth: { Authorization: string };
  stop(): Promise<void>;
}

export interface BenchServerOptions {
  /** Task scripts by name (bodies, bash). */
  tasks?: Record<string, string>;
  logLevel?: string;
  args?: string[];
}

/** BENCH_SERVER_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles the servers a run starts. */
function serverNodeArgs(): string[] {
  return (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
}

/**
 * Starts the built sdci-server (dist/, as the tests do) on a free loopback port. Its stdout
 * (the pino request log, written synchronously) goes to /dev/null, so neither a full pipe
 * nor this process's reading of it shapes the numbers; stderr is kept for errors.
 */
export async function startBenchServer(options: BenchServerOptions = {}): Promise<BenchServer> {
  const scratch = scratchDir("server");
  const tasksDir = join(scratch.path, "tasks");
  const uploadsDir = join(scratch.path, "uploads");
  for (const [name, body] of Object.entries(options.tasks ?? {})) writeScript(tasksDir, name, body);
  mkdirSync(tasksDir, { recursive: true });
  const token = randomBytes(24).toString("base64url");
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        ...serverNodeArgs(),
        serverBin,
        "serve",
        "--port",
        String(port),
        "--tasks-dir",
        tasksDir,
        "--uploads-dir",
        uploadsDir,
        "--data-dir",
        join(scratch.path, "data"),
        "--log-level",
        options.logLevel ?? "info",
        ...(options.args ?? []),
      ],
      { env: { ...process.env, SDCI_SERVER_TOKEN: token }, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp(`${url}/health`, child);
    } catch (error) {
      await stopProcess(child);
      // Another process may have taken the port between the probe and the bind.
      if (attempt < 3 && /already in use/.test(stderr)) continue;
      scratch.remove();
      throw new Error(`sdci-server did not start: ${(error as Error).message}\n${stderr}`);
    }
    return {
      url,
      token,
      pid: child.pid!,
      tasksDir,
      uploadsDir,
      auth: { Authorization: `Bearer ${token}` },
      async stop() {
        await stopProcess(child);
        scratch.remove();
      },
    };
  }
}
