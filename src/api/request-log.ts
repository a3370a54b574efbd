import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { Logger } from "../logger.js";
import { RUN_ID_PATTERN } from "../runner/run-store.js";
import type { ApiEnv } from "./router.js";

/**
 * One log record per request, by route pattern rather than raw path so that whatever a
 * client puts in a URL stays out of the log; never a header, so never the token.
 */
export function requestLog(logger: Logger): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const route = routePath(c) || "(none)";
    logger.info(
      {
        method: c.req.method,
        route,
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        runId: c.get("runId") ?? runIdOf(c.req.param("id")),
      },
      "request",
    );
  };
}

/** A path's run id when it is one: anything else a client puts there (a token pasted in the wrong place) stays out of the log. */
function runIdOf(param: string | undefined): string | undefined {
  return param !== undefined && RUN_ID_PATTERN.test(param) ? param : undefined;
}
