import { join, resolve } from "node:path";
import type { Readable, Writable } from "node:stream";
import { packageRoot } from "../../package-info.js";
import { findExecutable, requireRunningSystemd, requireSystemdHost } from "./host-check.js";
import { SetupError } from "./setup-error.js";
import { StepRunner } from "./steps.js";

/** What setup and uninstall learn from the machine they run on; tests pass their own. */
export interface SystemdHost {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  euid: number;
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
  /** sd_booted(3)'s marker folder; /run/systemd/system on a real host. */
  systemdMarker?: string;
}

/** The options setup and uninstall share. */
export interface ServiceRequest {
  serviceName: string;
  dryRun: boolean;
  /** Write under this folder instead of `/` (tests, images); systemctl only with `systemctl`. */
  root?: string;
  systemctl?: string;
}

/** The installed entry point that the unit starts, and the writer sudo runs. */
export const serverEntryPoint = join(packageRoot, "dist", "server", "main.js");
const privilegedWriter = join(packageRoot, "dist", "server", "systemd", "privileged-write.js");

/**
 * Checks that this host can take a systemd service and makes the runner for it: plain when
 * root or under `--root`, through sudo otherwise. Throws a SetupError before anything is written.
 */
export function prepareRunner(request: ServiceRequest, host: SystemdHost): StepRunner {
  const systemctl = requireSystemdHost({ platform: host.platform, searchPath: host.env.PATH, systemctl: request.systemctl });
  const root = request.root === undefined ? undefined : resolve(request.root);
  const runner = new StepRunner({
    root,
    systemctl: root === undefined ? systemctl : request.systemctl,
    euid: host.euid,
    sudo: findExecutable("sudo", host.env.PATH),
    nodePath: process.execPath,
    privilegedWriter,
    out: host.stdout,
    err: host.stderr,
  });
  if (request.dryRun) return runner;
  if (root === undefined) requireRunningSystemd(host.systemdMarker);
  if (runner.needsSudo && findExecutable("sudo", host.env.PATH) === undefined) {
    throw new SetupError("this needs root for /etc and systemctl, and sudo was not found: run it as root");
  }
  return runner;
}

/** This process's host, with the command's own streams. */
export function currentHost(streams: Pick<SystemdHost, "stdin" | "stdout" | "stderr">): SystemdHost {
  return { platform: process.platform, env: process.env, euid: process.geteuid?.() ?? -1, ...streams };
}
