import { readFileSync } from "node:fs";

/** Resident memory of a live process from /proc/<pid>/status, in bytes. */
export interface Memory {
  /** VmRSS: resident now. */
  rss: number;
  /** VmHWM: the peak resident size since the process started. */
  peak: number;
}

export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rss: kib("VmRSS") * 1024, peak: kib("VmHWM") * 1024 };
}

export const MB = 1_000_000;
export const MiB = 1024 * 1024;

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on every Linux build in use). */
const USER_HZ = 100;

/**
 * CPU seconds (user + system) a live process has used so far, from /proc/<pid>/stat. On a
 * loaded machine, CPU per byte moves far less than bytes per second.
 */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}
