import net from "node:net";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A TCP connection to the server, so a test controls every byte (fetch normalizes paths and always sends its whole body). */
export function openSocket(serverUrl: string): Promise<net.Socket> {
  const { hostname, port } = new URL(serverUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** The head of a request (request line and headers, then the blank line). */
export function requestHead(method: string, target: string, headers: Record<string, string | number>): string {
  const lines = Object.entries({ Host: "127.0.0.1", ...headers }).map(([name, value]) => `${name}: ${value}`);
  return `${method} ${target} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`;
}

/**
 * Reads the next final response from a socket (a `100 Continue` before it is skipped): status,
 * headers, and a body by Content-Length or chunks. Rejects after `timeoutMs` or when the
 * socket closes first.
 */
export function readResponse(socket: net.Socket, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const done = (error: Error | null, response?: RawResponse) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.off("error", onError);
      if (error) reject(error);
      else resolve(response as RawResponse);
    };
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const [statusLine = "", ...lines] = buffer.subarray(0, end).toString("latin1").split("\r\n");
        const status = Number(statusLine.split(" ")[1]);
        if (status === 100) {
          buffer = buffer.subarray(end + 4);
          continue;
        }
        const headers = Object.fromEntries(
          lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]),
        );
        const rest = buffer.subarray(end + 4);
        if (headers["content-length"] !== undefined) {
          const length = Number(headers["content-length"]);
          if (rest.length < length) return;
          done(null, { status, headers, body: rest.subarray(0, length).toString("utf8") });
        } else if (headers["transfer-encoding"] === "chunked") {
          if (!rest.includes("0\r\n\r\n")) return;
          done(null, { status, headers, body: dechunk(rest) });
        } else {
          done(null, { status, headers, body: rest.toString("utf8") });
        }
        return;
      }
    };
    const onClose = () => done(new Error(`the connection closed before a response; got ${JSON.stringify(buffer.toString("latin1").slice(0, 200))}`));
    const onError = (error: Error) => done(error);
    const timer = setTimeout(() => done(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
    socket.on("data", onData);
    socket.once("close", onClose);
    socket.once("error", onError);
  });
}

function dechunk(data: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", offset);
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString("latin1"), 16);
    if (!size) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts).toString("utf8");
}

/** One request on a fresh connection: the head, an optional body, then the response; the socket is closed after. */
export async function rawRequest(serverUrl: string, head: string, body?: Buffer, timeoutMs = 10_000): Promise<RawResponse> {
  const socket = await openSocket(serverUrl);
  socket.on("error", () => {});
  try {
    const response = readResponse(socket, timeoutMs);
    socket.write(head);
    if (body) socket.write(body);
    return await response;
  } finally {
    socket.destroy();
  }
}

/** One chunk of a chunked body. */
export function encodeChunk(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from("\r\n")]);
}

/** The end of a chunked body, with trailer fields if any. */
export function lastChunk(trailers: Record<string, string> = {}): Buffer {
  const fields = Object.entries(trailers).map(([name, value]) => `${name}: ${value}\r\n`);
  return Buffer.from(`0\r\n${fields.join("")}\r\n`);
}

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
    const socket = net.connect(Number(port), hostname);
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
