import { connect } from "node:net";
import type { TestServer } from "./server.js";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP/1.1 request written byte for byte over a socket, for paths that fetch would
 * normalize (`/v1/tasks/%2e%2e/runs`) or headers it would add.
 */
export async function rawRequest(
  baseUrl: string,
  requestLine: string,
  headers: Record<string, string> = {},
  body = "",
): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const lines = [requestLine + " HTTP/1.1", `Host: ${hostname}:${port}`, "Connection: close"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body !== "") lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  const socket = connect(Number(port), hostname);
  socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  const [head = "", ...rest] = text.split("\r\n\r\n");
  const [statusLine = "", ...headerLines] = head.split("\r\n");
  const parsed: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    parsed[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let responseBody = rest.join("\r\n\r\n");
  if (parsed["transfer-encoding"] === "chunked") responseBody = unchunk(responseBody);
  return { status: Number(statusLine.split(" ")[1]), headers: parsed, body: responseBody };
}

function unchunk(text: string): string {
  let out = "";
  let rest = text;
  for (;;) {
    const lineEnd = rest.indexOf("\r\n");
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (!size) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

/** POSTs a run; `sse` asks for the live stream instead of the 202. */
export function postRun(
  server: TestServer,
  task: string,
  params?: string[],
  options: { sse?: boolean; signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(`${server.url}/v1/tasks/${task}/runs`, {
    method: "POST",
    headers: {
      ...server.auth,
      ...(params ? { "Content-Type": "application/json" } : {}),
      ...(options.sse ? { Accept: "text/event-stream" } : {}),
    },
    body: params ? JSON.stringify({ params }) : undefined,
    signal: options.signal,
  });
}

export async function getJson(server: TestServer, path: string): Promise<any> {
  const response = await fetch(`${server.url}${path}`, { headers: server.auth });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** What holds the server's lock (GET /v1/status's `busy`), or null. */
export async function busyHolder(server: Pick<TestServer, "url" | "auth">): Promise<{ kind: string; id: string } | null> {
  const response = await fetch(`${server.url}/v1/status`, { headers: server.auth });
  return ((await response.json()) as { busy: { kind: string; id: string } | null }).busy;
}

/** Polls the run until it has ended; returns its final record. */
export async function waitForRun(server: TestServer, id: string, timeoutMs = 15_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await getJson(server, `/v1/runs/${id}`);
    if (run.status !== "running") return run;
    if (Date.now() > deadline) throw new Error(`run ${id} still running after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
