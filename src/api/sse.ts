import { type FileHandle, open } from "node:fs/promises";
import type { RunEventLog } from "../runner/run-event-log.js";

/** The headers of every SSE response: nothing on the way may buffer or transform it. */
export const SSE_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
};

const RETRY_PRELUDE = Buffer.from("retry: 2000\n\n");
const KEEPALIVE = Buffer.from(": keepalive\n\n");
const READ_CHUNK = 256 * 1024;

export interface FollowOptions {
  /** Longest silence before a keepalive comment, so proxies and clients see a live stream. */
  keepaliveMs: number;
}

interface ReadOptions extends FollowOptions {
  /** false: stop at what the log holds now instead of waiting for the run's end. */
  follow?: boolean;
  /** Start with the SSE `retry:` line (not wanted when the frames are turned into text). */
  prelude?: boolean;
  /** Called once when the stream ends in any way: closed, cancelled by the client, or failed. */
  onEnd?: () => void;
  /** Ends the stream (its file closed, `onEnd` called) even if no one reads or cancels it. */
  abandoned?: AbortSignal;
}

/**
 * A reader that follows a run's event log from `startOffset`: it replays what is on disk,
 * then waits for more, and ends after the `exit` event. It reads one chunk ahead of what the
 * client has taken, so a slow client costs a file position and at most two chunks, never a
 * buffer that grows.
 */
export function followRunLog(log: RunEventLog, startOffset: number, options: ReadOptions): ReadableStream<Uint8Array> {
  const { follow = true, prelude = true } = options;
  const endOffset = follow ? Infinity : log.size;
  let position = startOffset;
  let file: FileHandle | undefined;
  let cancelled = false;
  let ended = false;
  let keepaliveTimer: NodeJS.Timeout | undefined;

  const closeFile = async () => {
    clearTimeout(keepaliveTimer);
    if (!ended) {
      ended = true;
      options.onEnd?.();
    }
    const handle = file;
    file = undefined;
    await handle?.close();
  };

  let streamController: ReadableStreamDefaultController<Uint8Array> | undefined;
  const abandon = () => {
    cancelled = true;
    closeFile().catch(() => {});
    // Whoever still reads it gets an end, never a stream that stays silent.
    try {
      streamController?.close();
    } catch {
      // Closed or failed already.
    }
  };
  if (options.abandoned?.aborted) abandon();
  else options.abandoned?.addEventListener("abort", abandon, { once: true });

  /** Enqueues the next chunk (or a keepalive), or closes the stream after the last event. */
  const pullOnce = async (controller: ReadableStreamDefaultController<Uint8Array>) => {
    while (!cancelled) {
      const change = log.changed;
      const end = Math.min(log.size, endOffset);
      if (position < end && file) {
        const length = Math.min(READ_CHUNK, end - position);
        const chunk = Buffer.allocUnsafe(length);
        const { bytesRead } = await file.read(chunk, 0, length, position);
        position += bytesRead;
        controller.enqueue(chunk.subarray(0, bytesRead));
        return;
      }
      if (log.finished || position >= endOffset) {
        await closeFile();
        controller.close();
        return;
      }
      const idle = await Promise.race([
        change.then(() => false),
        new Promise<boolean>((resolve) => (keepaliveTimer = setTimeout(resolve, options.keepaliveMs, true))),
      ]);
      clearTimeout(keepaliveTimer);
      if (idle && !cancelled) {
        controller.enqueue(KEEPALIVE);
        return;
      }
    }
  };

  return new ReadableStream<Uint8Array>(
    {
      async start(controller) {
        streamController = controller;
        try {
          const handle = await open(log.path, "r");
          // Abandoned while the file was being opened: nothing else would close it.
          if (cancelled) {
            await handle.close();
            return;
          }
          file = handle;
        } catch (error) {
          await closeFile();
          throw error;
        }
        // Sent at once, so the headers and a first byte leave before the task prints anything.
        if (prelude) controller.enqueue(RETRY_PRELUDE);
      },
      async pull(controller) {
        try {
          await pullOnce(controller);
        } catch (error) {
          await closeFile().catch(() => {});
          throw error;
        }
      },
      async cancel() {
        cancelled = true;
        await closeFile();
      },
    },
    // One chunk read ahead: the next file read overlaps the socket write of the last one. Without
    // it, each chunk waited for both in turn, and a flood of output took 15% more server CPU.
    { highWaterMark: 1 },
  );
}

/** The SSE response for a run's events after `lastEventId` (0: all of them). */
export function runEventsResponse(log: RunEventLog, lastEventId: number, options: ReadOptions): Response {
  return new Response(followRunLog(log, log.offsetAfter(lastEventId), options), { status: 200, headers: SSE_HEADERS });
}
