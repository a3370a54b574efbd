import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";

export const repoRoot = join(import.meta.dirname, "..", "..");
export const serverBin = join(repoRoot, "dist", "server", "main.js");
export const cliBin = join(repoRoot, "dist", "cli", "main.js");

export interface TestServer {
  url: string;
  token: string;
  root: string;
  tasksDir: string;
  uploadsDir: string;
  dataDir: string;
  process: ChildProcess;
  /** Everything the server printed so far (stdout and stderr). */
  output(): string;
  /** Authorization header for the server's token. */
  auth: { Authorization: string };
  /** SIGTERM, wait for exit, remove the temp folder. */
  stop(): Promise<number | null>;
}

export interface TestServerOptions {
  /** Task scripts by name (without .sh). */
  tasks?: Record<string, string>;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Reuse folders of an earlier server (restart tests). */
  root?: string;
  /** The token to use instead of a random one (for a token file the test writes first). */
  token?: string;
  keep?: boolean;
  /** Working folder of the server process (default: the test's). */
  cwd?: string;
}

/** Writes a task script into a tasks folder. */
export function writeTask(tasksDir: string, name: string, body: string): void {
  const path = join(tasksDir, `${name}.sh`);
  writeFileSync(path, body.startsWith("#!") ? body : `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(path, 0o755);
}

/** Starts the built sdci-server on 127.0.0.1 port 0 with a random token and temp folders. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const root = options.root ?? mkdtempSync(join(tmpdir(), "sdci-test-"));
  const tasksDir = join(root, "tasks");
  const uploadsDir = join(root, "uploads");
  const dataDir = join(root, "data");
  mkdirSync(tasksDir, { recursive: true });
  for (const [name, body] of Object.entries(options.tasks ?? {})) writeTask(tasksDir, name, body);
  // Never led by "-": as a positional argument (store-token URL TOKEN) it would read as an option.
  const token = options.token ?? `t${randomBytes(24).toString("base64url")}`;
  const child = spawn(
    process.execPath,
    [
      serverBin,
      "serve",
      "--port",
      "0",
      "--tasks-dir",
      tasksDir,
      "--uploads-dir",
      uploadsDir,
      "--data-dir",
      dataDir,
      "--kill-grace",
      "2",
      ...(options.args ?? []),
    ],
    {
      cwd: options.cwd,
      env: { ...process.env, SDCI_SERVER_TOKEN: token, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const started = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`server did not start:\n${output}`));
    }, 30_000);
    const onData = () => {
      const match = /listening on (http[^\s"]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout.off("data", onData);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  const url = await started.catch((error: unknown) => {
    // A server that never started leaves no temp folder behind either.
    if (!options.root && !options.keep) rmSync(root, { recursive: true, force: true });
    throw error;
  });
  return {
    url,
    token,
    root,
    tasksDir,
    uploadsDir,
    dataDir,
    process: child,
    output: () => output,
    auth: { Authorization: `Bearer ${token}` },
    async stop() {
      let code: number | null = child.exitCode;
      if (code === null && child.signalCode === null) {
        child.kill("SIGTERM");
        [code] = (await once(child, "exit")) as [number | null];
      }
      if (!options.keep) rmSync(root, { recursive: true, force: true });
      // Every server a test starts also checks that its log never showed the token.
      if (output.includes(token)) throw new Error("the server's output contains its token");
      return code;
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built sdci-cli to completion. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string, user?: CliUser): Promise<CliResult> {
  return startCli(args, env, input, user).result;
}

/** Another user to run the CLI as (the test must be root), for what root's permissions would hide. */
export interface CliUser {
  uid: number;
  gid: number;
}

export interface RunningCli {
  child: ChildProcess;
  /** Resolves once the text seen on stdout so far matches, with the wall-clock time it did. */
  stdoutMatches(pattern: RegExp): Promise<{ at: number; match: RegExpExecArray }>;
  result: Promise<CliResult>;
}

/** Starts the built sdci-cli and lets a test watch its stdout as it arrives. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string, user?: CliUser): RunningCli {
  const child = spawn(process.execPath, [cliBin, ...args], {
    ...user,
    env: { ...process.env, SDCI_TOKEN: "", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const watchers: Array<{ pattern: RegExp; resolve: (seen: { at: number; match: RegExpExecArray }) => void }> = [];
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    stdout += chunk;
    const at = Date.now();
    for (const watcher of [...watchers]) {
      const match = watcher.pattern.exec(stdout);
      if (match) {
        watchers.splice(watchers.indexOf(watcher), 1);
        watcher.resolve({ at, match });
      }
    }
  });
  child.stderr!.on("data", (chunk: string) => (stderr += chunk));
  // A command that never reads stdin may exit before the input is written: that EPIPE is no failure.
  child.stdin!.on("error", () => {});
  child.stdin!.end(input ?? "");
  const result = once(child, "close").then(([code]) => {
    const token = env.SDCI_TOKEN;
    if (token && token.length >= 8 && (stdout + stderr).includes(token)) throw new Error("sdci-cli printed its token");
    return { code: code as number | null, stdout, stderr };
  });
  return {
    child,
    result,
    stdoutMatches(pattern) {
      return new Promise((resolve, reject) => {
        const match = pattern.exec(stdout);
        if (match) return resolve({ at: Date.now(), match });
        watchers.push({ pattern, resolve });
        const ended = () => reject(new Error(`the CLI ended without printing ${pattern}:\n${stdout}`));
        void result.then(ended, ended);
      });
    },
  };
}
