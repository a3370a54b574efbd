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
  const token = flag || env.SDCI_TOKEN;
  if (token) return token;
  const { keychainFailure, readStoredToken } = await import("./keychain.js");
  let stored: string | undefined;
  try {
    stored = await readStoredToken(serverUrl);
  } catch (error) {
    throw keychainFailure(`no token for ${serverUrl}`, error);
  }
  if (stored) return stored;
  throw new CliError(
    `no token for ${serverUrl}: pass --token TOKEN, set SDCI_TOKEN, or store one with: sdci-cli store-token ${serverUrl}`,
  );
}
