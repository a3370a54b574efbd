import { constants } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { components } from "../../generated/schema.js";
import { type ApiClient, apiFailure } from "./api-client.js";
import { CliError, certificateProblem } from "./cli-error.js";
import { sseEvents } from "./sse-events.js";

export type ExitEvent = components["schemas"]["ExitEvent"];
type OutputEvent = components["schemas"]["OutputEvent"];

export interface FollowRunOptions {
  client: ApiClient;
  serverUrl: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** The stream the run was started with, if any; else the run is followed by id. */
  firstStream?: ReadableStream<Uint8Array>;
  runId?: string;
  /** How long to keep trying to reconnect after the stream drops (default: a minute). */
  reconnectWindowMs?: number;
  /** Told the run's id as soon as it is known (from the `run` event). */
  onRunId?: (id: string) => void;
}

const BACKOFF_MS = [100, 250, 500, 1000, 2000];

/** Long enough for a server restart or a network hiccup, short enough that CI notices a dead server. */
const DEFAULT_RECONNECT_WINDOW_MS = 60_000;

/**
 * Writes a run's output as it arrives and returns its `exit` event. When the stream drops it
 * reconnects with `Last-Event-ID` = the last event it handled, so no line is lost or repeated.
 */
export async function followRun(options: FollowRunOptions): Promise<ExitEvent> {
  const { client, serverUrl } = options;
  let runId = options.runId;
  let lastId = 0;
  let stream = options.firstStream;
  let attempt = 0;
  let droppedAt: number | undefined;
  if (!stream && runId) {
    const opened = await reopen(client, serverUrl, runId, lastId);
    if (opened === "finished") return finishedExit(client, serverUrl, runId);
    stream = opened;
  }

  for (;;) {
    if (stream) {
      try {
        for await (const event of sseEvents(stream)) {
          if (event.id) lastId = Number(event.id);
          attempt = 0;
          droppedAt = undefined;
          if (event.event === "run") {
            runId = eventData(event, isRunData, serverUrl).id;
            options.onRunId?.(runId);
          } else if (event.event === "output") {
            const output = eventData(event, isOutputEvent, serverUrl);
            (output.stream === "stderr" ? options.stderr : options.stdout).write(output.text);
          } else if (event.event === "exit") {
            return eventData(event, isExitEvent, serverUrl);
          }
        }
      } catch (error) {
        // An answer no sdci-server gives: reconnecting would only get it again.
        if (error instanceof CliError) throw error;
        // The connection broke mid-stream, or went quiet for longer than the API client's idle
        // timeout (the server's keepalive, every 15 s by default, keeps a live one busier): reconnect below.
      }
    }
    if (!runId) {
      throw new CliError(
        `the connection to ${serverUrl} dropped before the run's first event, so the run may have started or not (see: sdci-cli runs ${serverUrl})`,
      );
    }
    droppedAt ??= Date.now();
    if (Date.now() - droppedAt > (options.reconnectWindowMs ?? DEFAULT_RECONNECT_WINDOW_MS)) {
      throw new CliError(
        `lost the connection to ${serverUrl}; run ${runId} goes on there (follow it with: sdci-cli logs --follow ${serverUrl} ${runId})`,
      );
    }
    await sleep(BACKOFF_MS[Math.min(attempt++, BACKOFF_MS.length - 1)]);
    const reopened = await reopen(client, serverUrl, runId, lastId);
    if (reopened === "finished") return finishedExit(client, serverUrl, runId);
    stream = reopened;
  }
}

/** The run's events after `lastId`; undefined when the server cannot be reached yet. */
async function reopen(
  client: ApiClient,
  serverUrl: string,
  runId: string,
  lastId: number,
): Promise<ReadableStream<Uint8Array> | "finished" | undefined> {
  try {
    const { data, error, response } = await client.GET("/v1/runs/{id}/events", {
      params: { path: { id: runId }, header: { "last-event-id": String(lastId) } },
      parseAs: "stream",
    });
    if (response.status === 204) return "finished";
    if (response.ok && data) return eventStream(response, data, serverUrl);
    // A client error will not mend itself by retrying; a server or network one may.
    if (response.status >= 400 && response.status < 500) throw apiFailure(response, error, serverUrl, `run ${runId}`);
    return undefined;
  } catch (error) {
    // A refused certificate will not mend itself while we retry.
    if (error instanceof CliError || certificateProblem(error)) throw error;
    return undefined;
  }
}

/** The body of a 200 that should be a run's events; anything else is not an sdci-server's answer. */
export function eventStream(response: Response, body: ReadableStream<Uint8Array>, serverUrl: string): ReadableStream<Uint8Array> {
  const type = response.headers.get("content-type") ?? "";
  if (type.split(";")[0]?.trim().toLowerCase() === "text/event-stream") return body;
  body.cancel().catch(() => {});
  throw new CliError(`${serverUrl} answered ${response.status} but not with an event stream (is it an sdci-server?)`);
}

type SseEvent = { event?: string; data: string };

/** An event's data, parsed and checked; an event no sdci-server sends ends the command. */
function eventData<T>(event: SseEvent, isValid: (value: unknown) => value is T, serverUrl: string): T {
  let value: unknown;
  try {
    value = JSON.parse(event.data);
  } catch {
    value = undefined;
  }
  if (!isValid(value)) throw new CliError(`${serverUrl} sent a '${event.event}' event that is not valid (is it an sdci-server?)`);
  return value;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null;

const isRunData = (value: unknown): value is { id: string } => isRecord(value) && typeof value.id === "string";

const isOutputEvent = (value: unknown): value is OutputEvent =>
  isRecord(value) && (value.stream === "stdout" || value.stream === "stderr") && typeof value.text === "string";

const isExitEvent = (value: unknown): value is ExitEvent =>
  isRecord(value) &&
  typeof value.status === "string" &&
  (value.exitCode === null || typeof value.exitCode === "number") &&
  (value.signal === null || typeof value.signal === "string");

/** A run that ended while we were away, after we had every event: its exit from the record. */
async function finishedExit(client: ApiClient, serverUrl: string, runId: string): Promise<ExitEvent> {
  const { data, error, response } = await client.GET("/v1/runs/{id}", { params: { path: { id: runId } } });
  if (!data) throw apiFailure(response, error, serverUrl, `run ${runId}`);
  const { status, exitCode, signal, durationMs, reason } = data;
  return { status, exitCode, signal, durationMs, reason: reason ?? null };
}

/**
 * The last line for a run that did not succeed, naming `subject` ("task 'deploy'", "run ID"):
 * how it ended and, when the server ended it (a timeout, a cancel, a full disk), why.
 */
export function endOfRunLine(subject: string, exit: ExitEvent): string | undefined {
  if (exit.status === "succeeded") return undefined;
  const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.exitCode ?? "none"}`;
  const why = exit.reason ? `: ${exit.reason}` : "";
  return `sdci-cli: ${subject} ${exit.status.replace("_", " ")} (${how})${why}\n`;
}

/**
 * The CLI's exit code for a run: 0 only when it succeeded, the task's own code when it has
 * one, 128 + the signal number when a signal ended it (as a shell reports it), else 1.
 */
export function exitCodeOf(exit: ExitEvent): number {
  if (exit.status === "succeeded") return 0;
  if (exit.exitCode !== null && exit.exitCode !== 0) return exit.exitCode;
  if (exit.signal) {
    const number = (constants.signals as Record<string, number>)[exit.signal];
    if (number !== undefined) return 128 + number;
  }
  return 1;
}
