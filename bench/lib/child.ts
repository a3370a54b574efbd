import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { once } from "node:events";

/** Runs a command to its end with its output drained; resolves with the exit code. */
export async function runToExit(command: string, args: string[], options: { cwd?: string } = {}): Promise<number | null> {
  const child = spawn(command, args, { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.resume();
  child.stderr.resume();
  const [code] = (await once(child, "close")) as [number | null];
  return code;
}

/** Milliseconds `work` takes, on the monotonic clock. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** The full path of an executable found on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const candidate = `${dir || "."}/${name}`;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder.
    }
  }
  return undefined;
}
