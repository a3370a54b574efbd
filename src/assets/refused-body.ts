import type { IncomingMessage, ServerResponse } from "node:http";
import { X_ALREADY_SENT } from "@hono/node-server/utils/response/constants";

/** How long, and how many bytes, the rest of a refused body is read and thrown away. */
export interface DrainBounds {
  ms: number;
  bytes: number;
}

/**
 * Long enough for a client on a slow or busy link to see the answer and stop sending; a
 * client that never stops costs the server no more than this.
 */
export const DEFAULT_REFUSED_BODY_DRAIN: DrainBounds = { ms: 10_000, bytes: 1024 ** 3 };

/**
 * Answers an upload refused while its body is still arriving, then reads and throws away the
 * rest of that body, within `bounds`, before the connection closes. Closing at once would
 * reset the connection under a client that is still writing, and a client whose write fails
 * that way may never read the answer waiting for it (it reports a broken pipe, not the 413).
 *
 * The answer is written here, whole, but ends only with the drain: once a response has
 * finished, node-server drains an unread body itself, for 500 ms or 64 MiB only, and then
 * closes. Returns the Response for Hono: marked as already sent, with the status for the log.
 */
export async function answerWhileDraining(
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  answer: Response,
  bounds: DrainBounds,
): Promise<Response> {
  const body = Buffer.from(await answer.arrayBuffer());
  outgoing.writeHead(answer.status, {
    ...Object.fromEntries(answer.headers),
    "Content-Length": body.length,
    Connection: "close",
  });
  outgoing.write(body);
  discardRest(incoming, bounds, (whole) => {
    if (whole) outgoing.end();
    else outgoing.destroy();
  });
  return new Response(null, { status: answer.status, headers: { [X_ALREADY_SENT]: "true" } });
}

/**
 * Reads the body to its end and drops every byte; tells `done` whether it ended (true) or
 * went past a bound (false). Nothing is told when the client goes away first.
 */
function discardRest(incoming: IncomingMessage, bounds: DrainBounds, done: (whole: boolean) => void): void {
  let bytes = 0;
  const stop = (whole: boolean | undefined) => {
    clearTimeout(timer);
    incoming.off("data", count);
    incoming.off("end", ended);
    incoming.off("close", gone);
    if (whole !== undefined) done(whole);
  };
  const count = (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > bounds.bytes) stop(false);
  };
  const ended = () => stop(true);
  const gone = () => stop(undefined);
  const timer = setTimeout(() => stop(false), bounds.ms);
  // Whatever the upload piped the body into is done with: no byte of the rest may reach it.
  incoming.unpipe();
  incoming.on("data", count);
  incoming.once("end", ended);
  incoming.once("close", gone);
  incoming.resume();
}
