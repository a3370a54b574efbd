import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { RunStore } from "../../runner/run-store.js";
import type { TaskCatalog } from "../../runner/task-catalog.js";
import { StoppingError } from "../../runner/operation-lock.js";
import { BusyError, StorageFullError, type TaskRunner } from "../../runner/task-runner.js";
import { problemResponse } from "../problem.js";
import { createRouter } from "../router.js";
import {
  EXAMPLES,
  RunIdParam,
  RunSchema,
  StartRunBodySchema,
  TaskNameParam,
  NARROW_RESPONSES,
  problemResponses,
} from "../schemas.js";
import { runLogText } from "../log-text.js";
import { type FollowOptions, runEventsResponse } from "../sse.js";
import { type StreamSlots, slotForResponse, tooManyStreams } from "../stream-slots.js";

/** Longest JSON body the run route reads: 64 parameters of 4 KiB fit with room to spare. */
const MAX_RUN_BODY_BYTES = 512 * 1024;
/** A run holds the lock for as long as it runs; this is only a hint for when to ask again. */
const BUSY_RETRY_AFTER_SECONDS = "5";

const SSE_DESCRIPTION = [
  "A Server-Sent Events stream. Each event has an increasing integer `id` and one line of JSON",
  "`data`: `event: run` (data: Run) first, then `event: output` (data: OutputEvent) as the task writes,",
  "and `event: exit` (data: ExitEvent) last, after which the server closes the stream.",
  "Comments (`: keepalive`) keep an idle stream open.",
].join(" ");

const sseContent = {
  "text/event-stream": {
    // JSON Schema's contentSchema names the events inside the stream (OpenAPI 3.1 has no SSE type).
    schema: z.string().openapi({
      description: SSE_DESCRIPTION,
      contentMediaType: "text/event-stream",
      contentSchema: { $ref: "#/components/schemas/RunEvent" },
      example: 'id: 1\nevent: run\ndata: {"id":"20261203T160755123Z-a1b2c3","task":"deploy",...}\n\n',
    } as { description: string }),
  },
};

const startRun = createRoute({
  method: "post",
  path: "/v1/tasks/{task}/runs",
  operationId: "startRun",
  tags: ["runs"],
  summary: "Start a task",
  description: [
    "Starts the task with the given parameters when the server is idle.",
    "With `Accept: text/event-stream` the answer is the run's live event stream;",
    "otherwise 202 with the run and its `Location`.",
  ].join(" "),
  security: [{ bearerAuth: [] }],
  request: {
    params: z.object({ task: TaskNameParam }),
    body: {
      required: false,
      content: { "application/json": { schema: StartRunBodySchema, example: { params: ["v1.2.3"] } } },
    },
  },
  responses: {
    200: { description: "The run's events, live", content: sseContent },
    202: {
      description: "The run started",
      headers: z.object({ Location: z.string().openapi({ example: "/v1/runs/20261203T160755123Z-a1b2c3" }) }),
      content: {
        "application/json": {
          schema: z.object({ run: RunSchema }).openapi("StartedRun"),
          example: { run: { ...EXAMPLES.run, status: "running", exitCode: null, finishedAt: null, durationMs: null } },
        },
      },
    },
    ...problemResponses(400, 401, 404, 413, 415, 429, 507),
    503: {
      ...problemResponses(503)[503],
      description: "Too many event or log streams open at once (see Retry-After), or the server is stopping",
    },
  },
});

const getRun = createRoute({
  method: "get",
  path: "/v1/runs/{id}",
  operationId: "getRun",
  tags: ["runs"],
  summary: "Read a run",
  description: "The run's status; `exitCode`, `signal`, `finishedAt` and `durationMs` are set once it has ended.",
  security: [{ bearerAuth: [] }],
  request: { params: z.object({ id: RunIdParam }) },
  responses: {
    200: { description: "The run", content: { "application/json": { schema: RunSchema, example: EXAMPLES.run } } },
    ...problemResponses(400, 401),
    ...NARROW_RESPONSES.noSuchRun,
    ...NARROW_RESPONSES.throttledOnly,
  },
});

const listRuns = createRoute({
  method: "get",
  path: "/v1/runs",
  operationId: "listRuns",
  tags: ["runs"],
  summary: "List runs",
  description: "Runs newest first, optionally of one task; finished runs stay until the retention limit removes them.",
  security: [{ bearerAuth: [] }],
  request: {
    query: z.object({
      task: TaskNameParam.optional().openapi({ param: { name: "task", in: "query" }, example: "deploy" }),
      // Digits only: Number() would also take "1e2", "0x10" or "  5", which no integer is written as.
      limit: z
        .preprocess((value) => (typeof value === "string" && !/^[0-9]+$/.test(value) ? Number.NaN : value), z.coerce.number().int().min(1).max(1000))
        .default(20)
        .openapi({ type: "integer", minimum: 1, maximum: 1000, default: 20, param: { name: "limit", in: "query" }, example: 20 }),
    }),
  },
  responses: {
    200: {
      description: "The runs, newest first",
      content: {
        "application/json": {
          schema: z.object({ runs: z.array(RunSchema) }).openapi("RunList"),
          example: { runs: [EXAMPLES.run] },
        },
      },
    },
    ...NARROW_RESPONSES.badQuery,
    ...problemResponses(401),
    ...NARROW_RESPONSES.throttledOnly,
  },
});

const runLog = createRoute({
  method: "get",
  path: "/v1/runs/{id}/log",
  operationId: "getRunLog",
  tags: ["runs"],
  summary: "Read a run's output as text",
  description:
    "The task's stdout and stderr as plain text, in the order they were recorded. With `follow=true` the answer streams until the run ends.",
  security: [{ bearerAuth: [] }],
  request: {
    params: z.object({ id: RunIdParam }),
    query: z.object({
      follow: z
        .enum(["true", "false"])
        .default("false")
        .openapi({ param: { name: "follow", in: "query" }, example: "true" }),
    }),
  },
  responses: {
    200: {
      description: "The output",
      content: { "text/plain": { schema: z.string().openapi({ example: "step 1 of 3\nstep 2 of 3\n" }) } },
    },
    ...problemResponses(400, 401, 503),
    ...NARROW_RESPONSES.noSuchRun,
    ...NARROW_RESPONSES.throttledOnly,
  },
});

const cancelRun = createRoute({
  method: "post",
  path: "/v1/runs/{id}/cancel",
  operationId: "cancelRun",
  tags: ["runs"],
  summary: "Cancel a running run",
  description: [
    "Sends SIGTERM to the run's whole process group, then SIGKILL after the server's grace period.",
    "The answer comes at once; the run's `exit` event and final status (`cancelled`) follow when it has ended.",
  ].join(" "),
  security: [{ bearerAuth: [] }],
  request: { params: z.object({ id: RunIdParam }) },
  responses: {
    202: {
      description: "Cancelling; the run as it is now",
      content: { "application/json": { schema: RunSchema, example: { ...EXAMPLES.run, status: "running", exitCode: null, finishedAt: null, durationMs: null } } },
    },
    ...problemResponses(400, 401, 409),
    ...NARROW_RESPONSES.noSuchRun,
    ...NARROW_RESPONSES.throttledOnly,
  },
});

const runEvents = createRoute({
  method: "get",
  path: "/v1/runs/{id}/events",
  operationId: "getRunEvents",
  tags: ["runs"],
  summary: "Follow a run's events",
  description:
    "Replays the run's events from the start, or after `Last-Event-ID`, then follows it live until its `exit` event.",
  security: [{ bearerAuth: [] }],
  request: {
    params: z.object({ id: RunIdParam }),
    headers: z.object({
      "last-event-id": z
        .string()
        .regex(/^\d{1,15}$/, "Last-Event-ID is the integer id of the last event received")
        .optional()
        .openapi({ example: "12", description: "Id of the last event the client received (SSE reconnection)" }),
    }),
  },
  responses: {
    200: { description: "The run's events", content: sseContent },
    204: { description: "The run has ended and the client has every event already" },
    ...problemResponses(400, 401, 503),
    ...NARROW_RESPONSES.noSuchRun,
    ...NARROW_RESPONSES.throttledOnly,
  },
});

/**
 * A body the route reads must say it is JSON: without this a missing Content-Type would make
 * the validator skip the body, and a form or text body would start a run with no parameters.
 * It runs before anything reads the body, so the server can still skip the unread body and
 * keep the connection.
 */
const requireJsonWhenBodySent: MiddlewareHandler = async (c, next) => {
  const hasBody = c.req.header("transfer-encoding") !== undefined || Number(c.req.header("content-length") ?? 0) > 0;
  const type = c.req.header("content-type") ?? "";
  if (hasBody && !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    return problemResponse("unsupported-media-type", "send the parameters as application/json: {\"params\": [...]}");
  }
  // A type with no body (curl -X POST -H 'Content-Type: application/json' URL) is no
  // parameters, as no body is; without this the validator would parse "" and answer 400.
  if (!hasBody && type !== "") c.req.raw.headers.delete("content-type");
  await next();
};

const tooLarge = (headers?: Record<string, string>) =>
  problemResponse("payload-too-large", `the body may have at most ${MAX_RUN_BODY_BYTES} bytes`, { headers });

/**
 * A declared length over the limit is refused before the body is touched. Once Hono's
 * bodyLimit has opened the body as a web stream, @hono/node-server can no longer skip the
 * rest of it: it drops the socket half a second after an answer that promised keep-alive,
 * and the client's next request on it fails.
 */
const refuseDeclaredOversize: MiddlewareHandler = async (c, next) => {
  if (Number(c.req.header("content-length") ?? 0) > MAX_RUN_BODY_BYTES) return tooLarge();
  await next();
};

/** A chunked body over the limit has been read in part: the connection ends with the answer. */
const limitStreamedBody = bodyLimit({ maxSize: MAX_RUN_BODY_BYTES, onError: () => tooLarge({ Connection: "close" }) });

export interface RunRoutesDeps {
  catalog: TaskCatalog;
  runner: TaskRunner;
  store: RunStore;
  follow: FollowOptions;
  streams: StreamSlots;
}

/** Starting runs and reading them back. */
export function runRoutes({ catalog, runner, store, follow, streams }: RunRoutesDeps) {
  const router = createRouter();
  router.use("/v1/tasks/:task/runs", requireJsonWhenBodySent, refuseDeclaredOversize, limitStreamedBody);

  router.openapi(startRun, async (c) => {
    const { task: name } = c.req.valid("param");
    const params = c.req.header("content-type") ? c.req.valid("json")?.params ?? [] : [];
    const task = await catalog.resolve(name);
    if (!task) return problemResponse("not-found", `no task named '${name}'`);
    const wantsStream = c.req.header("accept")?.includes("text/event-stream") ?? false;
    // The stream's slot is taken first: a run must not start for a reader that cannot follow it.
    const slot = wantsStream ? slotForResponse(streams, c.env?.outgoing) : null;
    if (wantsStream && !slot) return tooManyStreams(streams);
    let started;
    try {
      started = runner.start(task, params);
    } catch (error) {
      slot?.release();
      if (error instanceof BusyError) {
        return problemResponse("busy", error.message, { headers: { "Retry-After": BUSY_RETRY_AFTER_SECONDS } });
      }
      if (error instanceof StorageFullError) return problemResponse("insufficient-storage", error.message);
      if (error instanceof StoppingError) return problemResponse("stopping", error.message, { headers: { Connection: "close" } });
      throw error;
    }
    c.set("runId", started.record.id);
    if (slot) return runEventsResponse(started.log, 0, { ...follow, onEnd: slot.release, abandoned: slot.closed }) as never;
    return c.json({ run: started.record }, 202, { Location: `/v1/runs/${started.record.id}` });
  });

  router.openapi(listRuns, async (c) => {
    const { task, limit } = c.req.valid("query");
    return c.json({ runs: await store.list({ task, limit }) }, 200);
  });

  router.openapi(runLog, async (c) => {
    const { id } = c.req.valid("param");
    const log = await store.log(id);
    if (!log) return problemResponse("not-found", "no such run") as never;
    const slot = slotForResponse(streams, c.env?.outgoing);
    if (!slot) return tooManyStreams(streams) as never;
    const follow = c.req.valid("query").follow === "true";
    // A followed plain-text log has no keepalive comment to send (it would be part of the
    // text), so it may be silent for as long as its task is: the connection's idle timeout is
    // lifted. Node sets it again when the next request on the connection begins. A client
    // that vanishes without closing holds its stream slot until the run ends.
    if (follow && !log.finished) c.env?.incoming?.socket?.setTimeout(0);
    const body = runLogText(log, { follow, onEnd: slot.release, abandoned: slot.closed });
    const headers = { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no" };
    return new Response(body, { status: 200, headers }) as never;
  });

  router.openapi(cancelRun, async (c) => {
    const { id } = c.req.valid("param");
    if (runner.stop(id, "cancelled")) return c.json((await store.get(id))!, 202);
    const run = await store.get(id);
    if (!run) return problemResponse("not-found", "no such run") as never;
    const ended = run.status === "running" ? "its task has exited, and the run is being finished" : `the run has already ended (${run.status})`;
    return problemResponse("conflict", ended) as never;
  });

  router.openapi(getRun, async (c) => {
    const run = await store.get(c.req.valid("param").id);
    if (!run) return problemResponse("not-found", "no such run") as never;
    return c.json(run, 200);
  });

  router.openapi(runEvents, async (c) => {
    const { id } = c.req.valid("param");
    const lastEventId = Number(c.req.valid("header")["last-event-id"] ?? 0);
    const log = await store.log(id);
    if (!log) return problemResponse("not-found", "no such run") as never;
    if (log.finished && lastEventId >= log.lastId) return c.body(null, 204);
    const slot = slotForResponse(streams, c.env?.outgoing);
    if (!slot) return tooManyStreams(streams) as never;
    return runEventsResponse(log, lastEventId, { ...follow, onEnd: slot.release, abandoned: slot.closed }) as never;
  });

  return router;
}
