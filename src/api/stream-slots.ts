import { problemResponse } from "./problem.js";

/** Enough for a hundred readers of one run with room to spare; two file descriptors each. */
export const DEFAULT_MAX_STREAMS = 256;

/** When a reader may try again after 503: streams of short runs free their slots in seconds. */
const STREAMS_RETRY_AFTER_SECONDS = "10";

/**
 * A cap on open event and log streams. Each holds a socket, a file handle and a timer for as
 * long as its run lasts, so without a cap a few clients could hold the server's every handle.
 */
export class StreamSlots {
  readonly max: number;
  #open = 0;

  constructor(max: number) {
    this.max = max;
  }

  get open(): number {
    return this.#open;
  }

  /** A slot and its idempotent release, or null when every slot is taken. */
  tryAcquire(): (() => void) | null {
    if (this.#open >= this.max) return null;
    this.#open += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#open -= 1;
    };
  }
}

/** The answer when no slot is free: 503, try again later. */
export function tooManyStreams(slots: StreamSlots): Response {
  return problemResponse("too-many-streams", `at most ${slots.max} event or log streams may be open at once`, {
    headers: { "Retry-After": STREAMS_RETRY_AFTER_SECONDS },
  });
}
