import type { RunEventLog } from "../runner/run-event-log.js";
import { followRunLog } from "./sse.js";

const FRAME_END = "\n\n";
const OUTPUT_FRAME = /^id: \d+\nevent: output\ndata: (.*)$/;

/**
 * A run's output as plain text, both streams in the order they were recorded: the event
 * log's frames with everything but the task's own text taken out.
 */
export function runLogText(
  log: RunEventLog,
  { follow, onEnd, abandoned }: { follow: boolean; onEnd?: () => void; abandoned?: AbortSignal },
): ReadableStream<Uint8Array> {
  let pending = "";
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const frames = followRunLog(log, 0, { follow, prelude: false, keepaliveMs: 15_000, onEnd, abandoned });
  return frames.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        pending += decoder.decode(chunk, { stream: true });
        let text = "";
        let start = 0;
        let end: number;
        while ((end = pending.indexOf(FRAME_END, start)) >= 0) {
          const match = OUTPUT_FRAME.exec(pending.slice(start, end));
          if (match?.[1]) text += (JSON.parse(match[1]) as { text: string }).text;
          start = end + FRAME_END.length;
        }
        pending = pending.slice(start);
        if (text) controller.enqueue(encoder.encode(text));
      },
    }),
  );
}
