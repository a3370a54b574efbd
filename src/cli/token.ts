import { isSendableToken } from "../token-rules.js";
import { CliError } from "./cli-error.js";

/**
 * The token for a server: `--token`, else `SDCI_TOKEN`, else the OS keychain. The keychain
 * code is imported only when the first two are missing, so `--help`, `--version` and runs
 * with a token in hand never load it nor wait on D-Bus.
 */
export async function resolveToken(
  flag: string | undefined,
  serverUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if (flag !== undefined) return usableToken(flag, "--token");
  if (env.SDCI_TOKEN) return usableToken(env.SDCI_TOKEN, "SDCI_TOKEN");
  const { keychainFailure, readStoredToken } = await import("./keychain.js");
  let stored: string | undefined;
  try {
    stored = await readStoredToken(serverUrl);
  } catch (error) {
    throw keychainFailure(`no token for ${serverUrl}`, error);
  }
  if (stored) return usableToken(stored, "the OS keychain");
  throw new CliError(
    `no token for ${serverUrl}: pass --token TOKEN, set SDCI_TOKEN, or store one with: sdci-cli store-token ${serverUrl}`,
  );
}

/**
 * The token as an `Authorization: Bearer` header can carry it: blanks around it trimmed (a
 * token file written on Windows ends in "\r"; sdci-server trims its own the same way), and
 * nothing but visible ASCII inside. A failure names where the token came from, never the
 * token: fetch's own error for a bad header value would print it.
 */
export function usableToken(raw: string, source: string): string {
  const token = raw.trim();
  if (!token) throw new CliError(`the token from ${source} is empty`);
  if (!isSendableToken(token)) {
    throw new CliError(
      `the token from ${source} holds a line break, a blank, a control or a non-ASCII character; a token is one word of visible ASCII`,
    );
  }
  return token;
}
