import { readdir, readFile } from "node:fs/promises";
import { type ChildProcess, spawn } from "node:child_process";

/** A task's process, started as the leader of its own process group. */
export function spawnInGroup(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): ChildProcess {
  // detached: a new process group, so one signal reaches the task and every child it started.
  return spawn(command, args, { ...options, detached: true, stdio: ["ignore", "pipe", "pipe"] });
}

/** Signals the whole group; a group that is already gone is not an error. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM to the group, then SIGKILL to whatever is left of it after the grace period.
 * Returns a function that cancels the pending SIGKILL.
 */
export function terminateGroup(pid: number, graceMs: number): () => void {
  signalGroup(pid, "SIGTERM");
  const timer = setTimeout(() => signalGroup(pid, "SIGKILL"), graceMs);
  return () => clearTimeout(timer);
}

/** Resolves once no process of the group is left, or after `ms`; true when the group is gone. */
export async function waitForGroupExit(pid: number, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (!signalGroup(pid, 0 as unknown as NodeJS.Signals)) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return !signalGroup(pid, 0 as unknown as NodeJS.Signals);
}

/**
 * Kills every process that still carries `SDCI_RUN_ID=<runId>` in its environment: what a
 * run left behind when the server died without stopping it (a task's children inherit the
 * variable, so the whole tree is found even after it was re-parented). Linux /proc only.
 */
export async function killLeftoversOfRun(runId: string): Promise<number> {
  const marker = Buffer.from(`SDCI_RUN_ID=${runId}\0`);
  let killed = 0;
  const pids = (await readdir("/proc").catch(() => [] as string[])).filter((name) => /^\d+$/.test(name));
  for (const pid of pids) {
    const environ = await readFile(`/proc/${pid}/environ`).catch(() => null);
    if (!environ || environ.indexOf(marker) < 0) continue;
    try {
      process.kill(Number(pid), "SIGKILL");
      killed += 1;
    } catch {
      // Gone already, or not ours to kill.
    }
  }
  return killed;
}
