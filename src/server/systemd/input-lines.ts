import { createInterface, type Interface } from "node:readline";
import type { Readable } from "node:stream";

/**
 * Lines of stdin, read only when asked for: the token (when piped) is the first line and the
 * answer to "replace?" the next, so `printf 'TOKEN\nn\n' | sdci-server setup ...` works.
 */
export class InputLines {
  readonly #input: Readable;
  #reader?: Interface;
  #lines?: AsyncIterator<string>;

  constructor(input: Readable) {
    this.#input = input;
  }

  /** The next line without its line break, or undefined at the end of input. */
  async next(): Promise<string | undefined> {
    if (this.#lines === undefined) {
      this.#reader = createInterface({ input: this.#input, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
      this.#lines = this.#reader[Symbol.asyncIterator]();
    }
    const { value, done } = await this.#lines.next();
    return done ? undefined : value;
  }

  /** Lets the process exit: an open reader on stdin would keep it alive. */
  close(): void {
    this.#reader?.close();
  }
}
