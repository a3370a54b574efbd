import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { ensureFolder, ensureSystemFolder, writeFileAtomically } from "./atomic-file.js";
import { SetupError } from "./setup-error.js";
import type { Account } from "./user-account.js";

/** One change to the host. Paths are the target system's; the runner adds `--root`. */
export type Step =
  /** A folder of the service (tasks, uploads, data): created if missing, owned by the service user. */
  | { kind: "user-folder"; path: string; owner: Account }
  /** A system folder such as /etc/sdci: root's, mode 0755. */
  | { kind: "root-folder"; path: string }
  | { kind: "write"; path: string; content: string; mode: 0o600 | 0o644 }
  | { kind: "remove"; path: string }
  | { kind: "systemctl"; args: string[] };

export interface StepRunnerOptions {
  /** Every path goes under this folder instead of `/`; nothing needs root then, so no sudo. */
  root?: string;
  /** The systemctl to call; without one, systemctl steps are listed and not run. */
  systemctl?: string;
  /** Effective uid of this process: anything but 0 sends the privileged steps through sudo. */
  euid: number;
  /** The sudo to call; required when sudo is needed. */
  sudo?: string;
  /** node and privileged-write.js, run under sudo to write files as root. */
  nodePath: string;
  privilegedWriter: string;
  /** Receives each step as it runs, and what the commands print. */
  out: Writable;
  err: Writable;
}

/** Runs steps one by one, as root where needed; stops at the first failure with a SetupError. */
export class StepRunner {
  readonly #options: StepRunnerOptions;

  constructor(options: StepRunnerOptions) {
    this.#options = options;
  }

  /** Privileged steps need sudo: not root, and writing to the real `/`. */
  get needsSudo(): boolean {
    return this.#options.root === undefined && this.#options.euid !== 0;
  }

  /** Files and folders are made by root (this process is root): under --root run as a user, they are that user's. */
  get #writesAsRoot(): boolean {
    return this.#options.euid === 0;
  }

  /** The step as the shell command (or file write) it amounts to, with a note where useful. */
  describe(step: Step): string {
    const sudo = this.needsSudo ? "sudo " : "";
    switch (step.kind) {
      case "user-folder": {
        const asUser = this.#needsSudoAs(step.owner) ? `sudo -u ${shellWord(step.owner.name)} ` : "";
        const note = this.#writesAsRoot
          ? `${step.owner.name}'s; a missing parent is theirs in their home, root's (0755) elsewhere`
          : asUser
            ? `made by ${step.owner.name}, so theirs`
            : "yours";
        return `${asUser}mkdir -p -m 0700 ${shellWord(this.hostPath(step.path))}   # ${note}`;
      }
      case "root-folder":
        return `${sudo}mkdir -p -m 0755 ${shellWord(this.hostPath(step.path))}`;
      case "write":
        return `${sudo}write ${shellWord(this.hostPath(step.path))}   # atomically, owner ${this.#writesAsRoot || this.needsSudo ? "root" : "you"}, mode 0${step.mode.toString(8)} from the first byte`;
      case "remove":
        return `${sudo}rm -f ${shellWord(this.hostPath(step.path))}`;
      case "systemctl": {
        const command = `${sudo}systemctl ${step.args.map(shellWord).join(" ")}`;
        return this.#options.systemctl === undefined ? `${command}   # not run: --root without --systemctl` : command;
      }
    }
  }

  async run(steps: Step[]): Promise<void> {
    for (const step of steps) {
      const description = this.describe(step);
      this.#options.out.write(`+ ${description}\n`);
      try {
        await this.#runStep(step);
      } catch (error) {
        const reason = error instanceof SetupError ? error.message : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
        throw new SetupError(`\`${withoutNote(description)}\` failed: ${reason}`);
      }
    }
  }

  async #runStep(step: Step): Promise<void> {
    const { sudo, nodePath, privilegedWriter, systemctl } = this.#options;
    switch (step.kind) {
      case "user-folder": {
        const path = this.hostPath(step.path);
        if (this.#needsSudoAs(step.owner)) {
          return this.#command([sudo!, "-u", step.owner.name, "--", ...withUmask("077", ["mkdir", "-p", "-m", "0700", "--", path])]);
        }
        return ensureFolder(path, this.#options.euid === 0 ? step.owner : undefined, this.hostPath(step.owner.home));
      }
      case "root-folder": {
        const path = this.hostPath(step.path);
        if (this.needsSudo) return this.#command([sudo!, "--", ...withUmask("022", ["mkdir", "-p", "-m", "0755", "--", path])]);
        return ensureSystemFolder(path);
      }
      case "write": {
        const path = this.hostPath(step.path);
        const mode = `0${step.mode.toString(8)}`;
        if (this.needsSudo) return this.#command([sudo!, "--", nodePath, privilegedWriter, path, mode], step.content);
        return writeFileAtomically(path, step.content, step.mode);
      }
      case "remove": {
        const path = this.hostPath(step.path);
        if (this.needsSudo) return this.#command([sudo!, "--", "rm", "-f", "--", path]);
        return rm(path, { force: true });
      }
      case "systemctl":
        if (systemctl === undefined) return;
        return this.#command(this.needsSudo ? [sudo!, "--", systemctl, ...step.args] : [systemctl, ...step.args]);
    }
  }

  /** A folder of another user, when this process is neither root nor that user. */
  #needsSudoAs(owner: Account): boolean {
    return this.needsSudo && owner.uid !== this.#options.euid;
  }

  /** A path of the target system as this process reaches it (under `--root` if given). */
  hostPath(path: string): string {
    return this.#options.root === undefined ? path : join(this.#options.root, path);
  }

  /** Runs a command with `input` on stdin (or none); its output goes to ours. */
  #command([program, ...args]: string[], input?: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(program!, args, { stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
      child.stdout!.on("data", (chunk) => this.#options.out.write(chunk));
      child.stderr!.on("data", (chunk) => this.#options.err.write(chunk));
      child.once("error", (error: NodeJS.ErrnoException) =>
        reject(new SetupError(error.code === "ENOENT" ? `${program} was not found` : error.message)),
      );
      child.once("close", (code, signal) =>
        code === 0 ? resolve() : reject(new SetupError(signal ? `killed by ${signal}` : `exit code ${code}`)),
      );
      // A child that dies early closes its stdin; its exit code tells the story, not EPIPE.
      child.stdin?.on("error", () => {});
      child.stdin?.end(input);
    });
  }
}

/** A word as a POSIX shell would need it, for showing commands a person may copy. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The command of a description, without its `# note`. */
function withoutNote(description: string): string {
  return description.replace(/ {3}# .*$/, "");
}

/**
 * A command run under `sh` with its umask set first: `mkdir -p -m` gives the mode to the last
 * folder only, and the parents it makes take the umask, which sudo may pass on from the caller.
 */
function withUmask(umask: string, command: string[]): string[] {
  return ["sh", "-c", `umask ${umask} && exec "$@"`, "sh", ...command];
}
