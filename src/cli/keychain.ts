import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { normalizeServerUrl } from "./server-url.js";
import { CliError } from "./cli-error.js";
import type { KeychainReply, KeychainRequest } from "./keychain-helper.js";

/**
 * How long a keychain call may take. A working Secret Service answers in tens of
 * milliseconds; a half-alive D-Bus never answers at all, and a locked keychain on a desktop
 * may wait for its unlock prompt (unlock it, then run the command again).
 */
const KEYCHAIN_TIMEOUT_MS = 5_000;

const helperPath = fileURLToPath(new URL("./keychain-helper.js", import.meta.url));

/** A keychain that cannot be used: the reason, phrased for the end of a one-line message. */
export class KeychainUnavailable extends CliError {}

/**
 * The accounts a server's token may be stored under, preferred first: the URL without a
 * trailing slash (what store-token writes), then as typed and with one slash, the forms that
 * older SDCI clients stored, so `http://h:8842/` and `http://h:8842` find the same entry.
 */
function keychainAccounts(serverUrl: string): string[] {
  const normalized = normalizeServerUrl(serverUrl);
  return [...new Set([normalized, serverUrl, `${normalized}/`])];
}

/** The token stored for a server, or undefined when there is none. */
export async function readStoredToken(serverUrl: string): Promise<string | undefined> {
  const reply = await callHelper({ op: "get", accounts: keychainAccounts(serverUrl) });
  return "token" in reply && reply.token !== null ? reply.token : undefined;
}

/** Stores a server's token under the URL without its trailing slash. */
export async function storeToken(serverUrl: string, token: string): Promise<void> {
  await callHelper({ op: "set", accounts: keychainAccounts(serverUrl), token });
}

/** Deletes every entry for a server (any of its URL forms); returns how many there were. */
export async function deleteStoredToken(serverUrl: string): Promise<number> {
  const reply = await callHelper({ op: "delete", accounts: keychainAccounts(serverUrl) });
  return "deleted" in reply ? reply.deleted : 0;
}

/** Runs one request in the helper process, killing it when it takes too long. */
function callHelper(request: KeychainRequest): Promise<KeychainReply> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [helperPath], { stdio: ["pipe", "pipe", "ignore"] });
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      const seconds = KEYCHAIN_TIMEOUT_MS / 1000;
      reject(new KeychainUnavailable(`the OS keychain did not answer within ${seconds} s (unlock it if it is locked)`));
    }, KEYCHAIN_TIMEOUT_MS);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new KeychainUnavailable(`the keychain helper did not start: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      let reply: KeychainReply;
      try {
        reply = JSON.parse(output) as KeychainReply;
      } catch {
        reject(new KeychainUnavailable(`the keychain helper failed (${signal ?? `exit code ${code}`})`));
        return;
      }
      if ("error" in reply) reject(new KeychainUnavailable(describeKeychainError(reply.error)));
      else resolve(reply);
    });
    // An early exit of the helper closes its stdin; the reply (or its absence) tells the rest.
    child.stdin.on("error", () => {});
    child.stdin.end(JSON.stringify(request));
  });
}

/** The keychain library's error, as the state of the keychain a person can fix. */
function describeKeychainError(message: string): string {
  if (/DBUS_SESSION_BUS_ADDRESS|autolaunch|Failed to connect to socket|Connection refused/i.test(message)) {
    return "no D-Bus session (so no Secret Service)";
  }
  if (/org\.freedesktop\.secrets|ServiceUnknown/i.test(message)) {
    return "no Secret Service on the D-Bus session (gnome-keyring, KWallet or KeePassXC)";
  }
  if (/prompt was dismissed|locked/i.test(message)) return "the OS keychain is locked";
  return `the OS keychain failed: ${message.split("\n")[0]}`;
}

/** A keychain failure as the one line a command prints, naming the ways that need no keychain. */
export function keychainFailure(what: string, error: unknown): unknown {
  if (!(error instanceof KeychainUnavailable)) return error;
  return new CliError(`${what}: ${error.message}; pass --token TOKEN or set SDCI_TOKEN instead`);
}
