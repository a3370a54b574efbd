import { CliError } from "./cli-error.js";

/** The token for a server: `--token`, else `SDCI_TOKEN`. */
export function resolveToken(flag: string | undefined, serverUrl: string, env: NodeJS.ProcessEnv = process.env): string {
  const token = flag ?? env.SDCI_TOKEN;
  if (token) return token;
  throw new CliError(`no token for ${serverUrl}: pass --token TOKEN or set SDCI_TOKEN`);
}
