import { createRoute } from "@hono/zod-openapi";
import { packageVersion } from "../../package-info.js";
import { createRouter } from "../router.js";
import { HealthSchema, NARROW_RESPONSES } from "../schemas.js";

const health = createRoute({
  method: "get",
  path: "/health",
  operationId: "getHealth",
  tags: ["server"],
  summary: "Is the server up",
  description: "Answers without authentication, for load balancers and monitoring.",
  security: [],
  responses: {
    200: { description: "The server is serving", content: { "application/json": { schema: HealthSchema, example: { status: "ok", version: "0.1.0" } } } },
    ...NARROW_RESPONSES.malformedOnly,
  },
});

/** `GET /health`: liveness, no token needed. */
export function healthRoutes() {
  return createRouter().openapi(health, (c) => c.json({ status: "ok" as const, version: packageVersion }, 200));
}
