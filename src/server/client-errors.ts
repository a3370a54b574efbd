import type { Server } from "node:http";
import type { Duplex } from "node:stream";
import { type ProblemKind, PROBLEMS, problemBody } from "../api/problem.js";

/** Node's parser errors that a client caused, by the problem they get. */
function problemKindOf(error: NodeJS.ErrnoException): ProblemKind {
  if (error.code === "HPE_HEADER_OVERFLOW") return "header-too-large";
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") return "request-timeout";
  return "invalid-request";
}

/**
 * Requests node rejects before the app sees them (a malformed head, headers too large or too
 * slow, a CONNECT) get the same problem+json as every other error, then the connection is closed.
 */
export function answerClientErrors(server: Server): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex & { _httpMessage?: { headersSent?: boolean } }) => {
    // A reset or a response already under way leaves nothing sensible to say.
    if (error.code === "ECONNRESET" || !socket.writable || socket._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const kind = problemKindOf(error);
    answerAndClose(socket, kind, clientErrorDetail(kind));
  });
  // An Expect other than 100-continue: Node would answer a bare 417 before the app, unlogged.
  server.on("checkExpectation", (request, response) => {
    const body = JSON.stringify(problemBody("expectation-failed", `Expect: ${request.headers.expect ?? ""}: only 100-continue is understood`));
    response.writeHead(417, { "Content-Type": "application/problem+json", "Content-Length": Buffer.byteLength(body), Connection: "close" });
    response.end(body);
  });
  // Node hands CONNECT (a tunnel through a proxy) to this event, not to the app, and drops
  // the connection unanswered when nothing listens.
  server.on("connect", (_request, socket: Duplex) => {
    socket.on("error", () => {});
    // RFC 9110 15.5.6: a 405 names the methods the server does take.
    answerAndClose(socket, "method-not-allowed", "CONNECT: this is not a proxy", { Allow: "GET, HEAD, POST, PUT" });
  });
}

/** How long a client has to take an answer written straight to its socket before it is closed. */
const ANSWER_LINGER_MS = 1000;

/**
 * A problem+json answer written straight to the socket, which is then closed. Ending it only
 * closes the server's side: the server allows half-open connections and no HTTP timeout
 * watches this socket any more, so a client that never closes its own would hold it (and
 * a stopping server) for ever. What the client still sends is read and dropped meanwhile, so
 * the close comes as a FIN, not a reset that could cost the client the answer.
 */
function answerAndClose(socket: Duplex, kind: ProblemKind, detail: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(problemBody(kind, detail));
  const { status, title } = PROBLEMS[kind];
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.resume();
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\n` +
      "Content-Type: application/problem+json\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      extra.join("") +
      "Connection: close\r\n\r\n" +
      body,
  );
  setTimeout(() => socket.destroy(), ANSWER_LINGER_MS).unref();
}

function clientErrorDetail(kind: ProblemKind): string {
  switch (kind) {
    case "header-too-large":
      return "the request line and headers are larger than the server accepts";
    case "request-timeout":
      return "the request's headers did not arrive in time";
    default:
      return "the request is not well-formed HTTP";
  }
}
