import type { HttpBindings } from "@hono/node-server";
import type { MiddlewareHandler } from "hono";
import { problemResponse } from "./problem.js";

/**
 * Refuses a body sent with a transfer coding other than plain `chunked`. Node undoes the
 * chunking and hands on what is inside as it is, so a `gzip, chunked` upload would be stored
 * still compressed, with its length and digest checked against bytes the client did not mean.
 * RFC 9112 lets a server refuse a coding it does not apply.
 */
export const refuseTransferCodings: MiddlewareHandler<{ Bindings: HttpBindings }> = async (c, next) => {
  const coding = c.env?.incoming?.headers["transfer-encoding"];
  if (coding !== undefined && coding.trim().toLowerCase() !== "chunked") {
    return problemResponse(
      "invalid-request",
      `Transfer-Encoding '${coding.slice(0, 100)}' is not supported: send the body with Content-Length or as Transfer-Encoding: chunked`,
    );
  }
  await next();
};
