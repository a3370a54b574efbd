/** The stable problem types of the API (RFC 9457 `type`), each with its status and title. */
export const PROBLEMS = {
  "invalid-request": { status: 400, title: "The request is not valid" },
  unauthorized: { status: 401, title: "A valid bearer token is required" },
  "not-found": { status: 404, title: "Not found" },
  "method-not-allowed": { status: 405, title: "Method not allowed" },
  "asset-exists": { status: 409, title: "The destination already exists" },
  "length-required": { status: 411, title: "The body's length must be declared" },
  conflict: { status: 409, title: "Not possible in the resource's current state" },
  "payload-too-large": { status: 413, title: "The request body is too large" },
  "request-timeout": { status: 408, title: "The request took too long to arrive" },
  "unsupported-media-type": { status: 415, title: "Unsupported Content-Type" },
  "expectation-failed": { status: 417, title: "The Expect header asks for what this server does not do" },
  "digest-mismatch": { status: 422, title: "The body does not match its Content-Digest" },
  busy: { status: 429, title: "The server is busy with another run or upload" },
  "auth-throttled": { status: 429, title: "Too many wrong tokens from this address" },
  "header-too-large": { status: 431, title: "The request's headers are too large" },
  internal: { status: 500, title: "Internal server error" },
  "too-many-streams": { status: 503, title: "Too many open event streams" },
  stopping: { status: 503, title: "The server is stopping" },
  "insufficient-storage": { status: 507, title: "The server's disk is full" },
} as const;

export type ProblemKind = keyof typeof PROBLEMS;

export interface ProblemIssue {
  location: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: ProblemIssue[];
}

export function problemType(kind: ProblemKind): string {
  return `urn:sdci:problem:${kind}`;
}

export function problemBody(kind: ProblemKind, detail?: string, errors?: ProblemIssue[]): ProblemBody {
  const { status, title } = PROBLEMS[kind];
  return { type: problemType(kind), title, status, ...(detail ? { detail } : {}), ...(errors ? { errors } : {}) };
}

/** An `application/problem+json` response; every error of the API goes through here. */
export function problemResponse(
  kind: ProblemKind,
  detail?: string,
  options: { errors?: ProblemIssue[]; headers?: Record<string, string> } = {},
): Response {
  const body = problemBody(kind, detail, options.errors);
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { "Content-Type": "application/problem+json", ...options.headers },
  });
}
