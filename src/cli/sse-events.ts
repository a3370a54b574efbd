import { type EventSourceMessage, EventSourceParserStream } from "eventsource-parser/stream";

/** The events of an SSE body, parsed by eventsource-parser; comments and retry lines are skipped. */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<EventSourceMessage> {
  // Node's DOM-style typings disagree on TextDecoderStream's input type; it takes bytes.
  const decoder = new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>;
  const events = body.pipeThrough(decoder).pipeThrough(new EventSourceParserStream());
  const reader = events.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => {});
  }
}
