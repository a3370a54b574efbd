import { createRoute } from "@hono/zod-openapi";
import { packageVersion } from "../../package-info.js";
import type { OperationLock } from "../../runner/operation-lock.js";
import { createRouter } from "../router.js";
import { EXAMPLES, NARROW_RESPONSES, StatusSchema, problemResponses } from "../schemas.js";

const status = createRoute({
  method: "get",
  path: "/v1/status",
  operationId: "getStatus",
  tags: ["server"],
  summary: "What the server is busy with",
  description: "`busy` names the run or upload that holds the server's one lock, or is null when a new one can start.",
  security: [{ bearerAuth: [] }],
  responses: {
    200: { description: "The server's state", content: { "application/json": { schema: StatusSchema, example: { busy: { kind: "run", id: EXAMPLES.run.id }, version: "0.1.0" } } } },
    ...NARROW_RESPONSES.malformedOnly,
    ...problemResponses(401),
    ...NARROW_RESPONSES.throttledOnly,
  },
});

/** `GET /v1/status`: who holds the lock. */
export function statusRoutes(lock: OperationLock) {
  return createRouter().openapi(status, (c) => c.json({ busy: lock.holder ? { ...lock.holder } : null, version: packageVersion }, 200));
}
