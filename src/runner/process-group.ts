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
