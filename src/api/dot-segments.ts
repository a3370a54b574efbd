import type { HttpBindings } from "@hono/node-server";
import type { MiddlewareHandler } from "hono";
import { problemResponse } from "./problem.js";

/**
 * Rejects a raw request path with a `.` or `..` segment, plain or percent-encoded. The URL
 * parser would otherwise resolve `/v1/tasks/%2e%2e/runs` to another route before any handler
 * could see that the client asked for a parent folder.
 */
export const rejectDotSegments: MiddlewareHandler<{ Bindings: HttpBindings }> = async (c, next) => {
  const raw = c.env?.incoming?.url ?? new URL(c.req.url).pathname;
  const path = raw.split("?")[0] ?? "";
  const hasDotSegment = path.split("/").some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment));
  if (hasDotSegment) return problemResponse("invalid-request", "the path may not contain '.' or '..' segments");
  await next();
};
