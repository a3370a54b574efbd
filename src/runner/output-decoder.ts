import { StringDecoder } from "node:string_decoder";

export interface OutputDecoderOptions {
  /** How long a partial line (a prompt, a progress bar) may wait for its newline. */
  idleFlushMs: number;
  /** Longest text one event carries; longer lines are split. */
  maxChunkChars: number;
}

export const DEFAULT_DECODER_OPTIONS: OutputDecoderOptions = { idleFlushMs: 50, maxChunkChars: 64 * 1024 };

/**
 * Turns one pipe's raw reads into text chunks. A character split across reads stays whole,
 * invalid bytes become U+FFFD, every complete line of a read goes out at once in one chunk,
 * and a partial line goes out after a short idle so nothing waits for a newline forever.
 */
export class OutputDecoder {
  readonly #decoder = new StringDecoder("utf8");
  readonly #emit: (text: string) => void;
  readonly #options: OutputDecoderOptions;
  #pending = "";
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(emit: (text: string) => void, options: OutputDecoderOptions = DEFAULT_DECODER_OPTIONS) {
    this.#emit = emit;
    this.#options = options;
  }

  push(bytes: Buffer): void {
    this.#pending += this.#decoder.write(bytes);
    const lastNewline = this.#pending.lastIndexOf("\n");
    if (lastNewline >= 0) {
      this.#emitBounded(this.#pending.slice(0, lastNewline + 1));
      this.#pending = this.#pending.slice(lastNewline + 1);
    }
    while (this.#pending.length >= this.#options.maxChunkChars) {
      const cut = safeCut(this.#pending, this.#options.maxChunkChars);
      this.#emit(this.#pending.slice(0, cut));
      this.#pending = this.#pending.slice(cut);
    }
    if (this.#pending === "") {
      this.#clearIdle();
    } else if (!this.#idleTimer) {
      // Not re-armed on every read: a stream of partial output still goes out within the idle.
      this.#idleTimer = setTimeout(() => this.#flushPending(), this.#options.idleFlushMs);
    }
  }

  /** The pipe closed: whatever is left, including an unfinished character as U+FFFD. */
  end(): void {
    this.#pending += this.#decoder.end();
    this.#flushPending();
  }

  #flushPending(): void {
    this.#clearIdle();
    if (this.#pending === "") return;
    const text = this.#pending;
    this.#pending = "";
    this.#emitBounded(text);
  }

  #emitBounded(text: string): void {
    let rest = text;
    while (rest.length > this.#options.maxChunkChars) {
      const cut = safeCut(rest, this.#options.maxChunkChars);
      this.#emit(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    if (rest !== "") this.#emit(rest);
  }

  #clearIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}

/** A cut point at or before `at` that does not split a UTF-16 surrogate pair. */
function safeCut(text: string, at: number): number {
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff ? at - 1 : at;
}
