import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serverBin } from "./server.js";

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built sdci-server with `args`, `input` on stdin (closed after it), under umask 000
 * so a file that is private only thanks to the umask shows up as public.
 */
export async function runServerCommand(
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  const child = spawn("/bin/sh", ["-c", 'umask 000 && exec "$0" "$@"', process.execPath, serverBin, ...args], {
    env: { ...process.env, SUDO_USER: "", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  child.stdin.end(options.input ?? "");
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
}

/** A systemctl stand-in that appends each call's arguments as one line to its log. */
export function fakeSystemctl(): { path: string; calls(): string[]; failOn(verb: string): void } {
  const dir = mkdtempSync(join(tmpdir(), "sdci-systemctl-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "systemctl");
  const log = join(dir, "calls.log");
  writeFileSync(log, "");
  writeFileSync(
    path,
    `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\n[ -e '${dir}/fail-'"$1" ] && { echo "fake systemctl: $1 failed" >&2; exit 1; }\nexit 0\n`,
  );
  chmodSync(path, 0o755);
  return {
    path,
    calls: () => readFileSync(log, "utf8").split("\n").filter(Boolean),
    failOn: (verb) => writeFileSync(join(dir, `fail-${verb}`), ""),
  };
}

/** systemd-analyze, which the Debian package `systemd` brings (.ci/run installs it). */
export function systemdAnalyze(args: string[], env: NodeJS.ProcessEnv = {}): CommandResult {
  const result = spawnSync("systemd-analyze", args, { env: { ...process.env, ...env }, encoding: "utf8" });
  if (result.error) throw new Error(`systemd-analyze cannot run (install the Debian package systemd): ${result.error.message}`);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Whether systemd's own environment-file parser reads `name` from `file` as exactly `expected`.
 * systemd parses os-release with the same code as EnvironmentFile= (parse_env_file_internal),
 * `$SYSTEMD_OS_RELEASE` points it at our file, and ConditionOSRelease= compares a value as a
 * plain string. The condition itself is a unit-file word: `\` and `"` escaped, `%` doubled.
 */
export function systemdReadsEnvironmentValue(file: string, name: string, expected: string): boolean {
  const word = `${name}=${expected}`.replace(/[\\"]/g, "\\$&").replaceAll("%", "%%");
  const result = systemdAnalyze(["condition", `ConditionOSRelease="${word}"`], { SYSTEMD_OS_RELEASE: file });
  if (result.code !== 0 && !/failed/.test(result.stderr)) throw new Error(`systemd-analyze condition: ${result.stderr}`);
  return result.code === 0;
}

/**
 * Splits an ExecStart= value the way systemd.service(5) and systemd.syntax(7) describe, and
 * throws on anything systemd would read differently from plain text: specifiers are expanded
 * on the whole line first (only `%%` allowed here), then words are unquoted with C escapes,
 * then `$$` becomes `$` at start (any other `$` would substitute a variable).
 */
export function parseExecStart(line: string): string[] {
  const expanded = line.replace(/%(.)/g, (_, next: string) => {
    if (next !== "%") throw new Error(`specifier %${next} would expand`);
    return "%";
  });
  const escapes: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", s: " ", "\\": "\\", '"': '"', "'": "'" };
  const words: string[] = [];
  let index = 0;
  while (index < expanded.length) {
    if (expanded[index] === " ") {
      index++;
      continue;
    }
    if (expanded[index] !== '"') throw new Error(`unquoted word at ${index}: ${expanded.slice(index)}`);
    let word = "";
    index++;
    for (;;) {
      const char = expanded[index];
      if (char === undefined) throw new Error("unbalanced quote");
      if (char === '"') break;
      if (char === "\\") {
        const escaped = escapes[expanded[index + 1] ?? ""];
        if (escaped === undefined) throw new Error(`unknown escape \\${expanded[index + 1]}`);
        word += escaped;
        index += 2;
        continue;
      }
      word += char;
      index++;
    }
    index++;
    if (index < expanded.length && expanded[index] !== " ") throw new Error("a closing quote must be followed by a blank");
    words.push(
      word.replace(/\$(.?)/g, (_, next: string) => {
        if (next !== "$") throw new Error(`$${next} would be substituted`);
        return "$";
      }),
    );
  }
  return words;
}
