import { pino, type Logger } from "pino";
import { createRequire } from "node:module";
import type PinoPretty from "pino-pretty";
import { TurnBatchedDestination } from "./log-destination.js";
import type { LogLevel } from "./log-levels.js";

export type { Logger };

/**
 * The server's log: one JSON line per record for journald and log shippers, or readable
 * lines when a person watches a terminal. Nothing that logs may pass a token or a header.
 */
export function createLogger(level: LogLevel, destination: NodeJS.WritableStream & { fd?: number } = process.stdout): Logger {
  const readable = Boolean((destination as { isTTY?: boolean }).isTTY);
  const options = { level, base: undefined, timestamp: isoTimeOncePerMillisecond() };
  if (readable) {
    // Loaded only for a terminal: a service's log (journald, a file) never needs the ~2 MB.
    const pretty = createRequire(import.meta.url)("pino-pretty") as typeof PinoPretty;
    return pino(options, pretty({ colorize: true, sync: true, ignore: "pid,hostname" }));
  }
  return pino(options, new TurnBatchedDestination(destination.fd ?? 1));
}

/**
 * pino's `isoTime`, formatting the time once per millisecond instead of once per record: a
 * busy server logs several requests within one millisecond, and each formatting was a Date
 * and a string made for nothing.
 */
function isoTimeOncePerMillisecond(): () => string {
  let formattedAt = -1;
  let field = "";
  return () => {
    const now = Date.now();
    if (now !== formattedAt) {
      formattedAt = now;
      field = `,"time":"${new Date(now).toISOString()}"`;
    }
    return field;
  };
}

/** A logger that drops everything, for code that is only being described (the contract). */
export const silentLogger: Logger = pino({ level: "silent" });
