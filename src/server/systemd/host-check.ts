import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { SetupError } from "./setup-error.js";

/** The first executable file called `name` in the folders of `searchPath` (a PATH value). */
export function findExecutable(name: string, searchPath: string | undefined): string | undefined {
  for (const folder of (searchPath ?? "").split(delimiter)) {
    if (!isAbsolute(folder)) continue;
    const candidate = join(folder, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export interface HostFacts {
  platform: NodeJS.Platform;
  /** PATH to search for systemctl. */
  searchPath: string | undefined;
  /** `--systemctl`: the program to use instead of the one on PATH. */
  systemctl?: string;
}

/**
 * The systemctl to run, or a SetupError saying why this host cannot have a systemd service.
 * Checked before anything is read from stdin or written anywhere.
 */
export function requireSystemdHost(facts: HostFacts): string {
  if (facts.platform !== "linux") {
    throw new SetupError(`installing a service needs Linux with systemd, and this is ${facts.platform}: run \`sdci-server serve\` under your own supervisor instead`);
  }
  if (facts.systemctl !== undefined) {
    if (!isExecutableFile(facts.systemctl)) throw new SetupError(`--systemctl ${facts.systemctl} is not an executable file`);
    return facts.systemctl;
  }
  const found = findExecutable("systemctl", facts.searchPath);
  if (!found) {
    throw new SetupError("systemctl was not found on PATH: this host does not seem to use systemd; run `sdci-server serve` under your own supervisor instead");
  }
  return found;
}

/**
 * sd_booted(3): systemd is the running init when this folder exists. Without it every
 * systemctl call fails after the files are written, so setup says so before writing.
 */
export function requireRunningSystemd(marker = "/run/systemd/system"): void {
  let running = false;
  try {
    running = statSync(marker).isDirectory();
  } catch {
    running = false;
  }
  if (!running) {
    throw new SetupError(`systemd is not running on this host (no ${marker}): nothing was written; \`--root DIR\` writes the files for another system without starting anything`);
  }
}
