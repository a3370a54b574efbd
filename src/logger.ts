import { pino, type Logger, type Level } from "pino";
import pretty from "pino-pretty";

export type { Logger };
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = Level | "silent";

/**
 * The server's log: one JSON line per record for journald and log shippers, or readable
 * lines when a person watches a terminal. Nothing that logs may pass a token or a header.
 */
export function createLogger(level: LogLevel, destination: NodeJS.WritableStream & { fd?: number } = process.stdout): Logger {
  const readable = Boolean((destination as { isTTY?: boolean }).isTTY);
  const options = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  if (readable) return pino(options, pretty({ colorize: true, sync: true, ignore: "pid,hostname" }));
  return pino(options, pino.destination({ fd: destination.fd ?? 1, sync: true }));
}

/** A logger that drops everything, for code that is only being described (the contract). */
export const silentLogger: Logger = pino({ level: "silent" });
