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
 * Kills what a run left behind when the server died without stopping it: every process that
 * still carries `SDCI_RUN_ID=<runId>` in its environment (a task's children inherit it, so the
 * tree is found even after it was re-parented), and every process in the process group of
 * one of those (a child started with `env -i` lost the variable but not the group). Groups
 * are found from live marked processes only, so a reused group number is never hit. Linux
 * /proc only. Returns about how many processes were killed.
 */
export async function killLeftoversOfRun(runId: string): Promise<number> {
  const marker = Buffer.from(`SDCI_RUN_ID=${runId}\0`);
  const processes = await listProcesses();
  const marked = new Set<number>();
  const groups = new Set<number>();
  for (const { pid, group } of processes) {
    const environ = await readFile(`/proc/${pid}/environ`).catch(() => null);
    if (!environ || environ.indexOf(marker) < 0) continue;
    marked.add(pid);
    groups.add(group);
  }
  // Never the server's own group, whatever a task did to land in it.
  groups.delete(await groupOf(process.pid));
  groups.delete(0);
  let killed = 0;
  // By group, not by the pids of an earlier scan: no pid reused meanwhile can be hit.
  for (const group of groups) {
    if (signalGroup(group, "SIGKILL")) killed += processes.filter((entry) => entry.group === group).length;
  }
  for (const { pid, group } of processes) {
    if (!marked.has(pid) || groups.has(group)) continue;
    try {
      process.kill(pid, "SIGKILL");
      killed += 1;
    } catch {
      // Gone already, or not ours to kill.
    }
  }
  return killed;
}

/** Every process, with its process group, from /proc. */
async function listProcesses(): Promise<Array<{ pid: number; group: number }>> {
  const names = (await readdir("/proc").catch(() => [] as string[])).filter((name) => /^\d+$/.test(name));
  const found: Array<{ pid: number; group: number }> = [];
  for (const name of names) {
    const group = await groupOf(Number(name));
    if (group >= 0) found.push({ pid: Number(name), group });
  }
  return found;
}

/** A process's group from /proc/<pid>/stat (its 5th field), or -1 when it is gone. */
async function groupOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // The command name (2nd field) is in parentheses and may hold spaces: count from its end.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const group = Number(fields[2]);
  return Number.isInteger(group) && stat ? group : -1;
}
