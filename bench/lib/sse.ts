import { type EventSourceMessage, createParser } from "eventsource-parser";

/**
 * Reads an SSE response to its end, handing each event to `onEvent` as it is parsed (the
 * way sdci-cli reads it); resolves with the data of the `exit` event.
 */
export async function readEvents(
  response: Response,
  onEvent: (message: EventSourceMessage) => void = () => {},
): Promise<{ exitCode: number | null; status: string } | undefined> {
  let exit: { exitCode: number | null; status: string } | undefined;
  const parser = createParser({
    onEvent(message) {
      if (message.event === "exit") exit = JSON.parse(message.data);
      onEvent(message);
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(chunk, { stream: true }));
  }
  return exit;
}
