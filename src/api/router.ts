import type { HttpBindings } from "@hono/node-server";
import { OpenAPIHono } from "@hono/zod-openapi";
import { problemResponse } from "./problem.js";

/** What every route can see: node's request (for the raw URL) and the run a request is about. */
export interface ApiEnv {
  Bindings: HttpBindings;
  Variables: { runId?: string };
}

/**
 * A router whose validation failures become one 400 problem listing every issue, so a
 * client learns all that is wrong with a request at once.
 */
export function createRouter(): OpenAPIHono<ApiEnv> {
  return new OpenAPIHono<ApiEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      const errors = result.error.issues.map((issue) => ({
        location: [result.target, ...issue.path.map(String)].join("."),
        message: issue.message,
      }));
      return problemResponse("invalid-request", errors.map((e) => `${e.location}: ${e.message}`).join("; "), {
        errors,
      });
    },
  });
}
