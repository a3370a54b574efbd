import type { Server, ServerOptions } from "node:http";

/** The limits every connection lives under; README "HTTP limits" says why each is what it is. */
export interface HttpLimits {
  /** Longest a client may take to send the request line and headers: slow-header clients are cut. */
  headersTimeoutMs: number;
  /** A connection with no bytes either way for this long is closed (0: never). */
  idleTimeoutMs: number;
  /** How long an idle keep-alive connection waits for its next request. */
  keepAliveTimeoutMs: number;
  /** Largest request head in bytes; a bigger one gets 431. */
  maxHeaderBytes: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 30_000,
  idleTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderBytes: 16 * 1024,
};

/** Options for node's createServer that carry the limits. */
export function httpServerOptions(limits: HttpLimits): ServerOptions {
  return {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    // Uploads and task streams may take hours: no whole-request deadline.
    requestTimeout: 0,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks header deadlines on this period (30 s by default), which would blur short ones.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, limits.headersTimeoutMs / 4)),
    // Node's own answer to a missing Host is a bare 400; the app answers it with a problem.
    requireHostHeader: false,
  };
}

/** Limits that node takes only as properties of a server that exists. */
export function applyHttpLimits(server: Server, limits: HttpLimits): void {
  server.requestTimeout = 0;
  server.headersTimeout = limits.headersTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.timeout = limits.idleTimeoutMs;
}
