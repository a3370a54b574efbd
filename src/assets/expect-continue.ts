import type { IncomingMessage, Server } from "node:http";

/** Where uploads go: the route that answers `Expect: 100-continue` itself. */
export const ASSETS_PREFIX = "/v1/assets/";

function isUpload(request: IncomingMessage): boolean {
  // An absolute-form target (`PUT http://host/v1/assets/...`, as to a proxy) is routed there too.
  const path = (request.url ?? "").replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "");
  return request.method === "PUT" && path.startsWith(ASSETS_PREFIX);
}

/**
 * Whether the client waits for `100 Continue` before it sends its body. An HTTP/1.0 client
 * cannot: RFC 9110 (10.1.1) has the server ignore the expectation then, as Node does.
 */
export function expectsContinue(request: IncomingMessage): boolean {
  const modern = request.httpVersionMajor > 1 || (request.httpVersionMajor === 1 && request.httpVersionMinor >= 1);
  return modern && /100-continue/i.test(request.headers.expect ?? "");
}

/**
 * Node answers `Expect: 100-continue` at once by default. An upload answers it only after
 * its checks, so a client like curl sends no byte of a body the server would refuse (an
 * existing destination, a busy server). Every other request goes on as before.
 */
export function deferContinueForUploads(server: Server): void {
  server.on("checkContinue", (request: IncomingMessage, response) => {
    if (!isUpload(request)) response.writeContinue();
    server.emit("request", request, response);
  });
}
