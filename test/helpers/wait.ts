import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** Polls `check` until it returns a truthy value or `ms` pass; returns the last value. */
export async function waitFor<T>(check: () => T | Promise<T>, ms = 10_000, every = 25): Promise<T> {
  const deadline = performance.now() + ms;
  let value = await check();
  while (!value && performance.now() < deadline) {
    await sleep(every);
    value = await check();
  }
  return value;
}

/** Whether a process with this pid is alive (and not a zombie). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
