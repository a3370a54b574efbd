import { isIP, isIPv4 } from "node:net";
import { isAbsolute, resolve } from "node:path";
import { isSendableToken, readTokenLine } from "../../token-rules.js";
import { SetupError } from "./setup-error.js";

/**
 * Checks of the values setup and uninstall take, each giving a one-line reason that names
 * the option. They run before anything is written.
 */

/** A unit name systemd and a file name both take as is; `@` (templates) and `\` left out. */
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function parseServiceName(value: string): string {
  if (value.endsWith(".service")) {
    throw new SetupError(`--service-name takes the name without ".service", e.g. ${JSON.stringify(value.slice(0, -8))}`);
  }
  if (!SERVICE_NAME.test(value)) {
    throw new SetupError(`--service-name must be 1 to 64 letters, digits, _ . - (starting with a letter or digit), got ${JSON.stringify(value)}`);
  }
  return value;
}

export function parseListenAddress(value: string | undefined): string {
  if (value === undefined) {
    throw new SetupError("--ip is required: the address the server listens on (e.g. 10.0.0.5, or 127.0.0.1 behind a proxy)");
  }
  if (isIP(value) === 0) throw new SetupError(`--ip must be an IPv4 or IPv6 address, got ${JSON.stringify(value)}`);
  return value;
}

export function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw new SetupError(`--port must be a whole number from 1 to 65535, got ${JSON.stringify(value)}`);
  return port;
}

/** An absolute folder, normalized: systemd starts the service from `/`, so relative means nothing. */
export function parseFolder(option: string, value: string): string {
  if (!isAbsolute(value)) throw new SetupError(`${option} must be an absolute path, got ${JSON.stringify(value)}`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new SetupError(`${option} contains a control character (a line break, tab or NUL)`);
  return resolve(value);
}

export interface TokenSources {
  token?: string;
  tokenFile?: string;
  /** The first line of stdin, read only when neither option is given. */
  readStdinLine(): Promise<string | undefined>;
  stdinIsTerminal: boolean;
}

/** The token from --token, --token-file or stdin, trimmed as `sdci-server serve` trims it. */
export async function readToken(sources: TokenSources): Promise<string> {
  if (sources.token !== undefined && sources.tokenFile !== undefined) {
    throw new SetupError("give the token one way: --token or --token-file");
  }
  let token: string | undefined;
  if (sources.token !== undefined) {
    token = sources.token;
  } else if (sources.tokenFile !== undefined) {
    const file = sources.tokenFile;
    token = await readTokenLine(file).catch((error: Error) => {
      throw new SetupError(`--token-file ${file} ${error.message}`);
    });
  } else if (sources.stdinIsTerminal) {
    throw new SetupError("no token: pipe it on stdin (e.g. `openssl rand -hex 32 | ...`), or pass --token-file FILE or --token TOKEN");
  } else {
    token = await sources.readStdinLine();
  }
  token = token?.trim();
  if (!token) throw new SetupError("the token is empty (give it on stdin, with --token-file or with --token)");
  if (/[\u0000-\u001f\u007f]/.test(token)) throw new SetupError("the token contains a control character (a tab or NUL)");
  if (/\s/.test(token)) {
    throw new SetupError("the token contains a blank: clients send it as `Authorization: Bearer <token>`, where a blank ends it");
  }
  if (!isSendableToken(token)) {
    throw new SetupError("the token contains a non-ASCII character: clients send it in an HTTP header, which carries visible ASCII only");
  }
  return token;
}

/** 127.0.0.0/8 and ::1, however written (also IPv4-mapped): nothing beyond this host can listen in. */
export function isLoopback(address: string): boolean {
  if (isIPv4(address)) return address.startsWith("127.");
  // The URL parser writes an IPv6 address in one canonical form: 0:0:0:0:0:0:0:1 is ::1,
  // ::ffff:127.0.0.1 is ::ffff:7f00:1.
  let canonical: string;
  try {
    canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return false; // A zone id (fe80::1%eth0) is a link, never loopback.
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(canonical);
  return canonical === "::1" || (mapped !== null && Number.parseInt(mapped[1]!, 16) >> 8 === 127);
}
