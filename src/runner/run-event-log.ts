import { closeSync, createReadStream, ftruncateSync, openSync, truncateSync, writeSync } from "node:fs";

const FRAME_END = Buffer.from("\n\n");
const LOAD_CHUNK = 1024 * 1024;

/** The event types of a run's stream, in the order they can appear. */
export type RunEventType = "run" | "output" | "exit";

/**
 * A run's events as an append-only file of ready-made SSE frames
 * (`id: N\nevent: T\ndata: JSON\n\n`, ids 1, 2, 3, ...). Every event is on disk before any
 * reader can see it, each reader follows the file at its own pace, and `data` is one line of
 * JSON, so the task's output can never break the framing.
 */
export class RunEventLog {
  readonly path: string;
  #fd: number | null;
  #size = 0;
  /** Byte offset just after event N is at index N - 1. */
  #frameEnds: number[] = [];
  #finished = false;
  #resolveChange: () => void = () => {};
  #change: Promise<void> = this.#nextChange();

  private constructor(path: string, fd: number | null) {
    this.path = path;
    this.#fd = fd;
  }

  /** A new, empty log that this process will append to. */
  static create(path: string): RunEventLog {
    return new RunEventLog(path, openSync(path, "wx", 0o600));
  }

  /**
   * The log of an earlier run, read from disk once to index its frames. With `reopen`, a log
   * cut short by a crash is trimmed to its last whole frame and opened to append the end.
   */
  static async load(path: string, { reopen = false } = {}): Promise<RunEventLog> {
    const log = new RunEventLog(path, null);
    let offset = 0;
    let endsWithNewline = false;
    for await (const chunk of createReadStream(path, { highWaterMark: LOAD_CHUNK }) as AsyncIterable<Buffer>) {
      // A frame ends at a blank line, which only a frame's end has ("data" is one line of JSON).
      // indexOf searches natively: a byte-by-byte loop took seconds for a 200 MB log.
      if (endsWithNewline && chunk[0] === 0x0a) log.#frameEnds.push(offset + 1);
      for (let at = chunk.indexOf(FRAME_END); at !== -1; at = chunk.indexOf(FRAME_END, at + 1)) {
        log.#frameEnds.push(offset + at + 2);
      }
      endsWithNewline = chunk[chunk.length - 1] === 0x0a;
      offset += chunk.length;
    }
    // A crash can leave half a frame at the end: readers see only whole frames.
    log.#size = log.#frameEnds.at(-1) ?? 0;
    if (reopen) {
      truncateSync(path, log.#size);
      log.#fd = openSync(path, "a");
    } else {
      log.#finished = true;
    }
    return log;
  }

  /** Bytes of whole frames written so far; readers never read past this. */
  get size(): number {
    return this.#size;
  }

  get lastId(): number {
    return this.#frameEnds.length;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Settles at the next append or at the end of the log. */
  get changed(): Promise<void> {
    return this.#change;
  }

  /** Where a reader that has seen events up to `id` continues (0: from the start). */
  offsetAfter(id: number): number {
    if (id <= 0) return 0;
    return this.#frameEnds[Math.min(id, this.#frameEnds.length) - 1] ?? 0;
  }

  /**
   * Writes one event to disk, then wakes the readers. Returns the event's id. When the write
   * fails (a full disk) it throws, and the log stays as it was: no part of the frame is kept.
   */
  append(type: RunEventType, data: unknown): number {
    const fd = this.#fd;
    if (fd === null) throw new Error("run event log is closed");
    const id = this.#frameEnds.length + 1;
    const frame = `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
    const frameBytes = Buffer.byteLength(frame);
    let written = 0;
    try {
      // At an explicit offset, so a frame after a failed one lands where that one began. The
      // string is written as it is: a Buffer copy of every frame was garbage that a flood of
      // output piled up faster than the collector freed it.
      written = writeSync(fd, frame, this.#size, "utf8");
      if (written < frameBytes) {
        const rest = Buffer.from(frame).subarray(written);
        for (let offset = 0; offset < rest.length; ) {
          const count = writeSync(fd, rest, offset, rest.length - offset, this.#size + written);
          offset += count;
          written += count;
        }
      }
    } catch (error) {
      // Readers never read past #size, but a later append must not follow half a frame.
      if (written > 0) {
        try {
          ftruncateSync(fd, this.#size);
        } catch {
          // Cut short it stays; the next start trims a log to its last whole frame.
        }
      }
      throw error;
    }
    this.#size += frameBytes;
    this.#frameEnds.push(this.#size);
    this.#notify();
    return id;
  }

  /** No more events: readers finish once they reach the end, even if closing the file fails. */
  finish(): void {
    const fd = this.#fd;
    this.#fd = null;
    this.#finished = true;
    this.#notify();
    if (fd !== null) closeSync(fd);
  }

  #notify(): void {
    const resolve = this.#resolveChange;
    this.#change = this.#nextChange();
    resolve();
  }

  #nextChange(): Promise<void> {
    return new Promise((resolve) => {
      this.#resolveChange = resolve;
    });
  }
}
