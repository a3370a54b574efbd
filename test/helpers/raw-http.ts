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
