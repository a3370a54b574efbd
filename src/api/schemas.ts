import { z } from "@hono/zod-openapi";
import { type ProblemBody, type ProblemKind, problemBody } from "./problem.js";
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
          .refine((value) => !value.includes("\0"), "a parameter may not contain NUL")
          // With the u flag, this class matches only a surrogate that is not half of a pair.
          .refine((value) => !/[\uD800-\uDFFF]/u.test(value), "a parameter may not contain a lone UTF-16 surrogate (it is not text)"),
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

/** Examples shown in the contract and in Swagger UI, consistent with each other. */
export const EXAMPLES = {
  run: {
    id: "20261203T160755123Z-a1b2c3",
    task: "deploy",
    params: ["v1.2.3"],
    status: "succeeded",
    exitCode: 0,
    signal: null,
    startedAt: "2026-12-03T16:07:55.123Z",
    finishedAt: "2026-12-03T16:07:55.935Z",
    durationMs: 812,
    reason: null,
  },
  task: { name: "deploy", description: "Deploy a release to this host" },
} as const;

/** What each error status means on this API, with the example the contract shows for it. */
const ERROR_RESPONSES: Record<number, { description: string; kind: ProblemKind; detail: string }> = {
  400: { description: "The request is not valid", kind: "invalid-request", detail: "json.params.0: Invalid input: expected string, received number" },
  401: { description: "Missing or wrong bearer token", kind: "unauthorized", detail: "the token was not accepted" },
  404: { description: "No such resource", kind: "not-found", detail: "no task named 'deploy'" },
  409: { description: "Not possible in the resource's current state", kind: "conflict", detail: "the run has already ended (succeeded)" },
  413: { description: "The request body is too large", kind: "payload-too-large", detail: "the body may have at most 524288 bytes" },
  415: { description: "The body is not JSON", kind: "unsupported-media-type", detail: "send the parameters as application/json" },
  429: {
    description: "Busy with another run or upload, or too many wrong tokens from this address; see Retry-After",
    kind: "busy",
    detail: "the server is busy with another run or upload",
  },
  503: {
    description: "Too many event or log streams open at once; see Retry-After",
    kind: "too-many-streams",
    detail: "at most 256 event or log streams may be open at once",
  },
  507: {
    description: "The server's disk is full",
    kind: "insufficient-storage",
    detail: "the server's disk is full: the run could not be recorded, so it was not started",
  },
};

type ProblemResponse = {
  description: string;
  content: { "application/problem+json": { schema: typeof ProblemSchema; example?: ProblemBody } };
};

function problemResponseOf(description: string, kind: ProblemKind, detail: string): ProblemResponse {
  return { description, content: { "application/problem+json": { schema: ProblemSchema, example: problemBody(kind, detail) } } };
}

/**
 * Where an operation's error means less than its status does elsewhere, the contract says
 * so: spread after `problemResponses`, these replace the shared description and example.
 */
export const NARROW_RESPONSES = {
  /** An operation that takes no lock: its only 429 is an address that sent wrong tokens. */
  throttledOnly: {
    429: problemResponseOf(
      "Too many wrong tokens from this address; see Retry-After",
      "auth-throttled",
      "too many wrong tokens from this address; try again in 60 s",
    ),
  },
  /** An operation on one run, named by its id. */
  noSuchRun: { 404: problemResponseOf("No such run", "not-found", "no such run") },
  /** An operation with no parameters and no body: its only 400 is a request that is not well-formed. */
  malformedOnly: {
    400: problemResponseOf(
      "The request's target, Host header or transfer coding is not valid",
      "invalid-request",
      "the request's target or Host header is not valid",
    ),
  },
  /** An operation whose input is its query. */
  badQuery: { 400: problemResponseOf("The query is not valid", "invalid-request", "query.limit: Too small: expected number to be >=1") },
} as const;

/** Error responses shared by the routes: each one a problem+json body. */
export function problemResponses<const S extends number>(...statuses: S[]): Record<S, ProblemResponse> {
  return Object.fromEntries(
    statuses.map((status) => {
      const known = ERROR_RESPONSES[status];
      const example = known ? problemBody(known.kind, known.detail) : undefined;
      return [status, { description: known?.description ?? "Error", content: { "application/problem+json": { schema: ProblemSchema, example } } }];
    }),
  ) as Record<S, ProblemResponse>;
}
