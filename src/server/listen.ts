import { type RequestListener, type Server, createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { RequestError, getRequestListener } from "@hono/node-server";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { ApiEnv } from "../api/router.js";
import { problemResponse } from "../api/problem.js";
import { answerClientErrors } from "./client-errors.js";
import { type HttpLimits, applyHttpLimits, httpServerOptions } from "./http-limits.js";
import type { TlsCredentials } from "./tls.js";

export interface ListenOptions {
  host: string;
  port: number;
  limits: HttpLimits;
  /** Serve HTTPS with these; plain HTTP without. */
  tls?: TlsCredentials;
}

/**
 * The app on an HTTP or HTTPS server that applies the limits, listening. Requests that
 * node-server cannot even turn into a Request (a backslash in the path, a missing or bad Host
 * header) get a problem like every other error.
 */
export async function listen(app: OpenAPIHono<ApiEnv>, options: ListenOptions): Promise<Server> {
  // No default host name: an HTTP/1.1 request without Host is refused (RFC 9112), with a problem.
  const toApp = getRequestListener(app.fetch, {
    errorHandler: (error) =>
      error instanceof RequestError
        ? problemResponse("invalid-request", "the request's target or Host header is not valid")
        : problemResponse("internal"),
  });
  // HTTP/1.0 has no Host requirement: such a request is taken as addressed to this server.
  const ownHost = options.host.includes(":") ? `[${options.host}]` : options.host;
  const listener: RequestListener = (request, response) => {
    if (request.httpVersion === "1.0" && request.headers.host === undefined) request.headers.host = ownHost;
    return toApp(request, response);
  };
  const serverOptions = httpServerOptions(options.limits);
  const server = options.tls
    ? createHttpsServer({ ...serverOptions, ...options.tls }, listener)
    : createHttpServer(serverOptions, listener);
  applyHttpLimits(server, options.limits);
  answerClientErrors(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}
