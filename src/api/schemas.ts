import { z } from "@hono/zod-openapi";
import { RUN_ID_PATTERN } from "../runner/run-store.js";
import { TASK_NAME_PATTERN } from "../runner/task-catalog.js";

/** Limits on what a client may pass to a task: enough for any real deploy, bounded for the server. */
export const PARAMS_LIMITS = { maxCount: 64, maxLength: 4096 } as const;

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: "urn:sdci:problem:busy" }),
    title: z.string().openapi({ example: "The server is busy with another run or upload" }),
    status: z.number().int().openapi({ example: 429 }),
    detail: z.string().optional().openapi({ example: "run 20261203T160755123Z-a1b2c3 is in progress" }),
    errors: z
      .array(z.object({ location: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: "Every problem found in the request, for validation errors." }),
  })
  .openapi("Problem", { description: "An RFC 9457 problem details object." });

export const TaskNameParam = z
  .string()
  .regex(TASK_NAME_PATTERN, "a task name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
  .openapi({ param: { name: "task", in: "path" }, example: "deploy" });

export const RunIdParam = z
  .string()
  .regex(RUN_ID_PATTERN, "not a run id")
  .openapi({ param: { name: "id", in: "path" }, example: "20261203T160755123Z-a1b2c3" });

export const TaskSchema = z
  .object({
    name: z.string().openapi({ example: "deploy" }),
    description: z.string().openapi({ example: "Deploy a release to this host" }),
  })
  .openapi("Task");

export const RunStatusSchema = z
  .enum(["running", "succeeded", "failed", "timed_out", "cancelled", "interrupted"])
  .openapi("RunStatus");

const RunReasonSchema = z.string().nullable().openapi({
  description:
    "Why the server ended the run itself (a timeout, a cancel, its own shutdown, a full disk); null when the task ended on its own.",
  example: null,
});

export const RunSchema = z
  .object({
    id: z.string().openapi({ example: "20261203T160755123Z-a1b2c3" }),
    task: z.string().openapi({ example: "deploy" }),
    params: z.array(z.string()).openapi({ example: ["v1.2.3"] }),
    status: RunStatusSchema,
    exitCode: z.number().int().nullable().openapi({ example: 0 }),
    signal: z.string().nullable().openapi({ example: null }),
    startedAt: z.string().openapi({ format: "date-time" }),
    finishedAt: z.string().nullable().openapi({ format: "date-time" }),
    durationMs: z.number().int().nullable().openapi({ example: 812 }),
    reason: RunReasonSchema,
  })
  .openapi("Run");

export const StartRunBodySchema = z
  .object({
    params: z
      .array(
        z
          .string()
          .max(PARAMS_LIMITS.maxLength)
          .refine((value) => !value.includes("\0"), "a parameter may not contain NUL"),
      )
      .max(PARAMS_LIMITS.maxCount)
      .default([])
      .openapi({ description: "Passed to the script as $1..$n, never through a shell.", example: ["v1.2.3"] }),
  })
  .strict()
  .openapi("StartRun");

export const BusyHolderSchema = z
  .object({ kind: z.enum(["run", "upload"]), id: z.string() })
  .nullable()
  .openapi("BusyHolder");

export const StatusSchema = z
  .object({ busy: BusyHolderSchema, version: z.string().openapi({ example: "0.1.0" }) })
  .openapi("Status");

export const HealthSchema = z
  .object({ status: z.literal("ok"), version: z.string().openapi({ example: "0.1.0" }) })
  .openapi("Health");

export const ExitEventSchema = z
  .object({
    status: RunStatusSchema,
    exitCode: z.number().int().nullable(),
    signal: z.string().nullable(),
    durationMs: z.number().int().nullable(),
    reason: RunReasonSchema,
  })
  .openapi("ExitEvent", { description: "Data of the last event of a run's stream (`event: exit`)." });

export const OutputEventSchema = z
  .object({ stream: z.enum(["stdout", "stderr"]), text: z.string() })
  .openapi("OutputEvent", { description: "Data of an `event: output`: text the task wrote, whole lines where it could." });

export const RunEventSchema = z
  .discriminatedUnion("event", [
    z.object({ id: z.number().int(), event: z.literal("run"), data: RunSchema }),
    z.object({ id: z.number().int(), event: z.literal("output"), data: OutputEventSchema }),
    z.object({ id: z.number().int(), event: z.literal("exit"), data: ExitEventSchema }),
  ])
  .openapi("RunEvent", {
    description:
      "One event of a run's SSE stream, as its `id:`, `event:` and `data:` fields; `data` is always one line of JSON.",
  });

/** Error responses shared by the routes: each one a problem+json body. */
export function problemResponses<const S extends number>(...statuses: S[]) {
  const descriptions: Record<number, string> = {
    400: "The request is not valid",
    401: "Missing or wrong bearer token",
    404: "No such resource",
    409: "Not possible in the resource's current state",
    413: "The request body is too large",
    415: "The body is not JSON",
    429: "Busy with another run or upload, or too many wrong tokens from this address; see Retry-After",
    503: "Too many event or log streams open at once; see Retry-After",
    507: "The server's disk is full",
  };
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: descriptions[status] ?? "Error", content: { "application/problem+json": { schema: ProblemSchema } } },
    ]),
  ) as Record<S, { description: string; content: { "application/problem+json": { schema: typeof ProblemSchema } } }>;
}
