import { pino, type Logger } from "pino";
import pretty from "pino-pretty";
import { TurnBatchedDestination } from "./log-destination.js";
import type { LogLevel } from "./log-levels.js";

export type { Logger };

/**
 * The server's log: one JSON line per record for journald and log shippers, or readable
 * lines when a person watches a terminal. Nothing that logs may pass a token or a header.
 */
export function createLogger(level: LogLevel, destination: NodeJS.WritableStream & { fd?: number } = process.stdout): Logger {
  const readable = Boolean((destination as { isTTY?: boolean }).isTTY);
  const options = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  if (readable) return pino(options, pretty({ colorize: true, sync: true, ignore: "pid,hostname" }));
  return pino(options, new TurnBatchedDestination(destination.fd ?? 1));
}

/** A logger that drops everything, for code that is only being described (the contract). */
export const silentLogger: Logger = pino({ level: "silent" });
