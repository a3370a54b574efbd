import { CliError } from "./cli-error.js";

/** How long the CLI waits on a server that has gone quiet, before it gives up or reconnects. */
export interface ServerTimeouts {
  /** From a request sent to its answer's headers: a live server answers at once (runs stream their output). */
  answerMs: number;
  /**
   * The longest silence inside an answer (a run's event stream, a log) or while an upload's
   * body is being taken. Well above the server's keepalive (a comment every 15 s by default),
   * so only a dead or stuck connection reaches it; a run's stream then reconnects.
   */
  idleMs: number;
  /** From an upload's last byte to its answer: the server fsyncs the whole upload first. */
  uploadAnswerMs: number;
}

const DEFAULT_ANSWER_SECONDS = 30;
const DEFAULT_IDLE_SECONDS = 60;
/** A large upload's final fsync can take minutes on a slow disk; a dead server still ends the wait. */
const UPLOAD_ANSWER_FACTOR = 10;
/** A day: timers overflow past 2^31 ms (about 24 days, so 2.4 days once multiplied) and would fire at once. */
const MAX_SECONDS = 86_400;

/** The timeouts, from SDCI_ANSWER_TIMEOUT and SDCI_IDLE_TIMEOUT (seconds) when set. */
export function serverTimeouts(): ServerTimeouts {
  const answerMs = secondsFromEnv("SDCI_ANSWER_TIMEOUT", DEFAULT_ANSWER_SECONDS) * 1000;
  return {
    answerMs,
    idleMs: secondsFromEnv("SDCI_IDLE_TIMEOUT", DEFAULT_IDLE_SECONDS) * 1000,
    uploadAnswerMs: answerMs * UPLOAD_ANSWER_FACTOR,
  };
}

/** A duration as a message shows it: "30 s", "0.5 s". */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

function secondsFromEnv(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === "") return fallback;
  const seconds = Number(value);
  if (!(seconds > 0 && seconds <= MAX_SECONDS)) {
    throw new CliError(`${name} must be a number of seconds above 0 and at most ${MAX_SECONDS}, not '${value}'`);
  }
  return seconds;
}
