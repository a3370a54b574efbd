import { createRoute, z } from "@hono/zod-openapi";
import type { TaskCatalog } from "../../runner/task-catalog.js";
import { createRouter } from "../router.js";
import { EXAMPLES, NARROW_RESPONSES, TaskSchema, problemResponses } from "../schemas.js";

const listTasks = createRoute({
  method: "get",
  path: "/v1/tasks",
  operationId: "listTasks",
  tags: ["tasks"],
  summary: "List the tasks",
  description: "Every `<name>.sh` script in the server's tasks folder, with the first comment line as its description.",
  security: [{ bearerAuth: [] }],
  responses: {
    200: {
      description: "The tasks, by name",
      content: {
        "application/json": {
          schema: z.object({ tasks: z.array(TaskSchema) }).openapi("TaskList"),
          example: { tasks: [EXAMPLES.task] },
        },
      },
    },
    ...NARROW_RESPONSES.malformedOnly,
    ...problemResponses(401),
    ...NARROW_RESPONSES.throttledOnly,
  },
});

/** `GET /v1/tasks`. */
export function taskRoutes(catalog: TaskCatalog) {
  return createRouter().openapi(listTasks, async (c) => c.json({ tasks: await catalog.list() }, 200));
}
