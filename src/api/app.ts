import type { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import type { AssetUploads } from "../assets/asset-uploads.js";
import type { OperationLock } from "../runner/operation-lock.js";
import type { RunStore } from "../runner/run-store.js";
import type { TaskCatalog } from "../runner/task-catalog.js";
import type { TaskRunner } from "../runner/task-runner.js";
import type { Logger } from "../logger.js";
import { bearerAuth } from "./auth.js";
import type { AuthThrottle } from "./auth-throttle.js";
import { rejectDotSegments } from "./dot-segments.js";
import { type ProblemKind, problemResponse } from "./problem.js";
import { type ApiEnv, createRouter } from "./router.js";
import { requestLog } from "./request-log.js";
import { refuseTransferCodings } from "./transfer-coding.js";
import { assetRoutes } from "./routes/assets.js";
import { contractRoutes } from "./routes/contract.js";
import { docsRoutes } from "./routes/docs.js";
import { healthRoutes } from "./routes/health.js";
import { runRoutes } from "./routes/runs.js";
import { statusRoutes } from "./routes/status.js";
import { taskRoutes } from "./routes/tasks.js";
import { RunEventSchema } from "./schemas.js";
import type { FollowOptions } from "./sse.js";
import type { StreamSlots } from "./stream-slots.js";
import { isDiskFull } from "../runner/disk-full.js";

export interface AppDeps {
  token: string;
  catalog: TaskCatalog;
  runner: TaskRunner;
  store: RunStore;
  lock: OperationLock;
  uploads: AssetUploads;
  follow: FollowOptions;
  /** The cap on open event and log streams. */
  streams: StreamSlots;
  /** Who sent too many wrong tokens lately. */
  authThrottle: AuthThrottle;
  /** The contract as served at /openapi.yaml (the file, so it is the text the repo holds). */
  contractYaml: string;
  logger: Logger;
}

const STATUS_KINDS: Record<number, ProblemKind> = {
  400: "invalid-request",
  401: "unauthorized",
  404: "not-found",
  405: "method-not-allowed",
  413: "payload-too-large",
  415: "unsupported-media-type",
  429: "busy",
};

/** The whole HTTP API: public routes, then the bearer wall in front of everything under /v1. */
export function createApp(deps: AppDeps): OpenAPIHono<ApiEnv> {
  const app = createRouter();
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "The server's token, as `Authorization: Bearer <token>`.",
  });
  app.openAPIRegistry.register("RunEvent", RunEventSchema);

  app.use("*", requestLog(deps.logger));
  app.use("*", rejectDotSegments);
  app.use("*", refuseTransferCodings);
  app.route("/", healthRoutes());
  app.route("/", docsRoutes());
  app.route("/", contractRoutes(deps.contractYaml));
  app.use("/v1/*", bearerAuth(deps.token, deps.authThrottle, deps.logger));
  app.route("/", taskRoutes(deps.catalog));
  app.route("/", runRoutes(deps));
  app.route("/", statusRoutes(deps.lock));
  app.route("/", assetRoutes(deps.uploads));

  app.notFound((c) => problemResponse("not-found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.onError((error, c) => {
    if (error instanceof HTTPException) {
      const kind = STATUS_KINDS[error.status] ?? "invalid-request";
      return problemResponse(kind, error.message);
    }
    if (isDiskFull(error)) return problemResponse("insufficient-storage", "the server ran out of disk space");
    // Never a stack trace or a host path to the client; the operator sees it in the log.
    deps.logger.error({ err: error, method: c.req.method, path: new URL(c.req.url).pathname }, "unexpected error");
    return problemResponse("internal");
  });
  return app;
}
