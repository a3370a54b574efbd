import type { ServerResponse } from "node:http";
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

/** A stream's slot, and the sign that its response is gone. */
export interface StreamSlot {
  /** Gives the slot back; idempotent. The stream calls it when it ends. */
  release: () => void;
  /** Aborted once the response has closed, in any way: the stream must end then. */
  closed: AbortSignal;
}

/**
 * A slot for the stream that answers a request, tied to the request's response. node-server
 * cancels a body it is writing when the connection closes, but not one whose connection had
 * closed before it began, nor the body Hono drops to answer HEAD: those streams would keep
 * their slot and file for good, and enough of them would refuse every stream (and every
 * streamed run) until a restart. Without a response (the app called directly), nothing closes it.
 */
export function slotForResponse(slots: StreamSlots, outgoing: ServerResponse | undefined): StreamSlot | null {
  const release = slots.tryAcquire();
  if (!release) return null;
  const closed = new AbortController();
  if (outgoing) {
    // The request's socket: a pipelined answer waiting its turn has none of its own yet.
    const socket = outgoing.req?.socket ?? outgoing.socket;
    if (!socket || socket.destroyed || outgoing.destroyed) closed.abort();
    else outgoing.once("close", () => closed.abort());
  }
  return { release, closed: closed.signal };
}

/** The answer when no slot is free: 503, try again later. */
export function tooManyStreams(slots: StreamSlots): Response {
  return problemResponse("too-many-streams", `at most ${slots.max} event or log streams may be open at once`, {
    headers: { "Retry-After": STREAMS_RETRY_AFTER_SECONDS },
  });
}
