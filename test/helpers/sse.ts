import { type EventSourceMessage, createParser } from "eventsource-parser";

export interface SseEvent {
  id: number;
  event: string;
  data: any;
  /** Milliseconds since the reader started, when the event was parsed. */
  at: number;
}

/** Reads a raw SSE body to its end (or until `until` says stop), timestamping each event. */
export async function readSse(
  response: Response,
  until?: (event: SseEvent, all: SseEvent[]) => boolean,
): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const started = performance.now();
  let stop = false;
  const parser = createParser({
    onEvent(message: EventSourceMessage) {
      // Events after the one `until` stopped at belong to whoever reads on from there.
      if (stop) return;
      const event = {
        id: Number(message.id),
        event: message.event ?? "message",
        data: JSON.parse(message.data),
        at: performance.now() - started,
      };
      events.push(event);
      if (until?.(event, events)) stop = true;
    },
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  while (!stop) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(decoder.decode(value, { stream: true }));
  }
  await reader.cancel().catch(() => {});
  return events;
}

/** Concatenated text of the output events of one stream. */
export function outputOf(events: SseEvent[], stream: "stdout" | "stderr"): string {
  return events
    .filter((e) => e.event === "output" && e.data.stream === stream)
    .map((e) => e.data.text)
    .join("");
}
