import { connect } from "node:net";

export interface RawAnswer {
  /** Status of the first response, or 0 when the server closed without one. */
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from connecting until the server closed the connection. */
  closedAfterMs: number;
}

/**
 * Sends raw bytes to a server and collects what comes back until it closes the connection:
 * for requests that no HTTP client library would send. `parts` go out `gapMs` apart; with
 * `end` the client then half-closes its side.
 */
export function rawExchange(
  url: string,
  parts: (string | Buffer)[],
  { gapMs = 0, timeoutMs = 20_000, end = false }: { gapMs?: number; timeoutMs?: number; end?: boolean } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(deadline);
      clearTimeout(timer);
      resolve({ ...parseResponse(Buffer.concat(chunks).toString("latin1")), closedAfterMs: performance.now() - started });
    });
    let index = 0;
    const sendNext = () => {
      if (socket.destroyed) return;
      if (index >= parts.length) {
        if (end) socket.end();
        return;
      }
      socket.write(parts[index++]!);
      timer = setTimeout(sendNext, gapMs);
    };
    socket.once("connect", sendNext);
  });
}

function parseResponse(text: string): Omit<RawAnswer, "closedAfterMs"> {
  const headEnd = text.indexOf("\r\n\r\n");
  if (!text.startsWith("HTTP/") || headEnd < 0) return { status: 0, headers: {}, body: "" };
  const [statusLine = "", ...lines] = text.slice(0, headEnd).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body: text.slice(headEnd + 4) };
}
