import { writeSync } from "node:fs";

/** Bytes of log kept while stdout takes nothing (a stalled journald, a paused `| less`). */
const MAX_BACKLOG_BYTES = 16 * 1024 * 1024;
/** How soon a write that stdout refused (its pipe was full) is tried again. */
const RETRY_MS = 10;
/** How long the last lines may hold up the exit of a process whose stdout is not being read. */
const EXIT_WAIT_MS = 2000;

/**
 * A log destination that gathers the lines of one turn of the event loop and writes them in
 * one system call at its end. A busy server answers several requests per turn, and one write
 * per request line cost about a fifth of a status request's CPU; a quiet one still writes
 * every line within the turn, and whatever is pending is written when the process exits.
 *
 * stdout is often non-blocking (journald's socket, a pipe from a process manager): when its
 * reader falls behind, a write takes part of the batch or nothing (EAGAIN). The rest is kept, in order, and tried again shortly, so no
 * line is lost or cut; the server never blocks on its log. Past a 16 MiB backlog new lines
 * are dropped, and a line saying how many takes their place once stdout takes writes again.
 */
export class TurnBatchedDestination {
  readonly #fd: number;
  /** Lines written since the last flush, not yet encoded, and their length. */
  #lines: string[] = [];
  #linesLength = 0;
  /** Encoded batches that stdout has not taken yet, oldest first; they go before any newer line. */
  #backlog: Buffer[] = [];
  #backlogBytes = 0;
  #dropped = 0;
  #scheduled = false;
  #broken = false;

  readonly #maxBacklogBytes: number;

  constructor(fd: number, { maxBacklogBytes = MAX_BACKLOG_BYTES } = {}) {
    this.#fd = fd;
    this.#maxBacklogBytes = maxBacklogBytes;
    process.once("exit", () => this.#flushBeforeExit());
  }

  write(line: string): boolean {
    if (this.#broken) return true;
    if (this.#backlogBytes + this.#linesLength > this.#maxBacklogBytes) {
      this.#dropped += 1;
      return true;
    }
    this.#lines.push(line);
    this.#linesLength += line.length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
    return true;
  }

  /** Writes what stdout takes now; the rest waits for a retry. */
  flush(): void {
    this.#scheduled = false;
    this.#encodePending();
    if (this.#backlogBytes === 0) return;
    if (!this.#writeSome() && !this.#scheduled) {
      this.#scheduled = true;
      setTimeout(() => this.flush(), RETRY_MS).unref();
    }
  }

  /** Encodes the pending lines, after the count of dropped ones once there is room for it (or at exit). */
  #encodePending(atExit = false): void {
    if (this.#dropped > 0 && (atExit || this.#backlogBytes <= this.#maxBacklogBytes)) {
      this.#lines.unshift(droppedLine(this.#dropped));
      this.#dropped = 0;
    }
    if (this.#lines.length === 0) return;
    const batch = Buffer.from(this.#lines.length === 1 ? this.#lines[0]! : this.#lines.join(""));
    this.#lines = [];
    this.#linesLength = 0;
    this.#backlog.push(batch);
    this.#backlogBytes += batch.length;
  }

  /** True when the backlog is gone (written, or dropped because stdout is closed). */
  #writeSome(): boolean {
    while (this.#backlog.length > 0) {
      const batch = this.#backlog[0]!;
      let written = 0;
      try {
        while (written < batch.length) written += writeSync(this.#fd, batch, written);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN") {
          // stdout is closed or gone (EPIPE, EBADF): nobody can read these lines, and the server must go on.
          this.#backlog = [];
          this.#backlogBytes = 0;
          this.#lines = [];
          this.#linesLength = 0;
          this.#broken = true;
          return true;
        }
        // The pipe is full: keep what it did not take, to go first next time.
        this.#backlog[0] = batch.subarray(written);
        this.#backlogBytes -= written;
        return false;
      }
      this.#backlog.shift();
      this.#backlogBytes -= batch.length;
    }
    return true;
  }

  /** At exit no retry can be scheduled: wait for the reader a little, then give up. */
  #flushBeforeExit(): void {
    this.#encodePending(true);
    const deadline = Date.now() + EXIT_WAIT_MS;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    while (!this.#writeSome() && Date.now() < deadline) Atomics.wait(pause, 0, 0, RETRY_MS);
  }
}

/** A record in pino's shape, so log readers treat it as any other warning. */
function droppedLine(count: number): string {
  return `${JSON.stringify({ level: 40, time: new Date().toISOString(), msg: `${count} log lines dropped: stdout was not being read` })}\n`;
}
