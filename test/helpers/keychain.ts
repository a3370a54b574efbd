import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const TOOLS = ["dbus-run-session", "dbus-send", "gnome-keyring-daemon", "secret-tool"];

/**
 * Why the keychain tests cannot run here, or false when they can. CI installs the tools
 * (.ci/run), so there a missing tool fails the tests instead of skipping them.
 */
export const keychainToolsMissing: string | false = (() => {
  const missing = TOOLS.filter((tool) => {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0 || process.env.CI) return false;
  return `needs ${missing.join(", ")} (apt-get install dbus dbus-x11 gnome-keyring libsecret-tools)`;
})();

export interface KeychainSession {
  /** The variables a process needs to reach this session's Secret Service. */
  env: NodeJS.ProcessEnv;
  /** Everything dbus-daemon and gnome-keyring-daemon printed so far. */
  output(): string;
  /** Runs a program (secret-tool, dbus-send) inside the session. */
  exec(file: string, args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Locks the login keyring, as a screen lock or a timeout would. */
  lock(): Promise<void>;
  /** Ends the session: dbus-daemon stops and gnome-keyring-daemon with it. */
  stop(): Promise<void>;
}

/**
 * A private D-Bus session with gnome-keyring's Secret Service and a fresh login keyring,
 * unlocked with a throwaway password, in a temp HOME so the user's own keyrings are never
 * touched. The session lives as long as the `cat` that holds it open.
 */
export async function startKeychainSession(): Promise<KeychainSession> {
  const home = mkdtempSync(join(tmpdir(), "sdci-keyring-"));
  const runtimeDir = join(home, "run");
  mkdirSync(runtimeDir, { mode: 0o700 });
  const script = [
    "set -e",
    "printf %s sdci-test-keyring | gnome-keyring-daemon --unlock --components=secrets >/dev/null",
    'echo "bus=$DBUS_SESSION_BUS_ADDRESS"',
    "exec cat >/dev/null",
  ].join("\n");
  const child = spawn("dbus-run-session", ["--", "bash", "-c", script], {
    env: {
      ...process.env,
      HOME: home,
      XDG_DATA_HOME: join(home, "data"),
      XDG_CONFIG_HOME: join(home, "config"),
      XDG_CACHE_HOME: join(home, "cache"),
      XDG_RUNTIME_DIR: runtimeDir,
      // No display: a locked keyring must not pop a real unlock prompt on a developer's desktop.
      DISPLAY: undefined,
      WAYLAND_DISPLAY: undefined,
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no D-Bus session within 10 s:\n${output}`)), 10_000);
    child.stdout.on("data", () => {
      const match = /^bus=(\S+)$/m.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`dbus-run-session exited with ${code}:\n${output}`));
    });
  });
  const env = { DBUS_SESSION_BUS_ADDRESS: address };
  const exec = (file: string, args: string[], input?: string) => execIn(file, args, env, input);
  return {
    env,
    output: () => output,
    exec,
    async lock() {
      const { code } = await exec("dbus-send", [
        "--session",
        "--print-reply",
        "--dest=org.freedesktop.secrets",
        "/org/freedesktop/secrets",
        "org.freedesktop.Secret.Service.Lock",
        "array:objpath:/org/freedesktop/secrets/collection/login",
      ]);
      if (code !== 0) throw new Error("could not lock the login keyring");
    },
    async stop() {
      await endProcess(child);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

async function endProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.stdin?.end();
  await exited;
}

async function execIn(file: string, args: string[], env: NodeJS.ProcessEnv, input?: string) {
  const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdin.on("error", () => {});
  child.stdin.end(input ?? "");
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
}

/**
 * A D-Bus address whose socket accepts connections and never says a word: the "half-alive"
 * bus on which a Secret Service call would wait forever.
 */
export async function startMuteBus(): Promise<{ address: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "sdci-mute-bus-"));
  const path = join(dir, "bus");
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(path);
  await once(server, "listening");
  return {
    address: `unix:path=${path}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every process's parent, command line and environment (one string each), read from /proc. */
export function processTexts(): { pid: string; ppid: string; cmdline: string; environ: string }[] {
  const texts = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ");
      // The parent is the second field after "(command name)", a name that may hold ") ".
      const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
      const ppid = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] ?? "";
      let environ = "";
      try {
        environ = readFileSync(`/proc/${pid}/environ`, "latin1");
      } catch {
        // Another user's process: its environment is not ours to read, nor ours to leak into.
      }
      texts.push({ pid, ppid, cmdline, environ });
    } catch {
      // The process ended between readdir and read.
    }
  }
  return texts;
}
