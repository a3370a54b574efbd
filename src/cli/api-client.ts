import createClient from "openapi-fetch";
import { Agent } from "undici";
import type { components, paths } from "../../generated/schema.js";
import { CliError } from "./cli-error.js";
import { serverTimeouts } from "./server-timeouts.js";
import { normalizeServerUrl } from "./server-url.js";
import { trustedCertificates } from "./tls.js";

// Also offered here for commands that load the client anyway.
export { normalizeServerUrl };

export type Run = components["schemas"]["Run"];
export type Problem = components["schemas"]["Problem"];
export type ApiClient = ReturnType<typeof createApiClient>;

/**
 * The generated, typed client for one server, carrying the bearer token on every call. Its
 * connections trust --ca-cert's authority and give up on a server gone quiet (undici's
 * defaults wait 300 s for each answer and each pause in it).
 */
export function createApiClient(serverUrl: string, token: string) {
  const { answerMs, idleMs } = serverTimeouts();
  const dispatcher = new Agent({ headersTimeout: answerMs, bodyTimeout: idleMs, connect: { ca: trustedCertificates() } });
  return createClient<paths>({
    baseUrl: normalizeServerUrl(serverUrl),
    headers: { Authorization: `Bearer ${token}` },
    requestInitExt: { dispatcher },
  });
}

/** Turns a non-2xx answer into the one line a person needs, from its problem+json body. */
export function apiFailure(response: Response, body: unknown, serverUrl: string, subject?: string): CliError {
  const problem = (typeof body === "object" && body !== null ? body : {}) as Partial<Problem>;
  // A proxy or another program may answer instead of sdci-server: its text is kept to one line.
  const said = String(problem.detail ?? problem.title ?? response.statusText ?? "").replace(/\s+/g, " ").trim();
  const detail = said.slice(0, 300);
  switch (response.status) {
    case 401:
      return new CliError(`${serverUrl} refused the token (401): check --token, SDCI_TOKEN or the keychain's (sdci-cli store-token), the first that is set`);
    case 404:
      return new CliError(subject ? `${subject} not found on ${serverUrl}` : `not found on ${serverUrl}: ${detail}`);
    case 429: {
      const retry = response.headers.get("retry-after");
      const later = retry ? `; try again in ${retry} s` : "";
      if (problem.type === "urn:sdci:problem:auth-throttled") {
        return new CliError(`${serverUrl} refuses this address for now after too many wrong tokens${later}`);
      }
      return new CliError(`${serverUrl} is busy with another run or upload${later}`);
    }
    default:
      if (!detail) return new CliError(`${serverUrl} answered ${response.status} with no reason given (is it an sdci-server, or a proxy in front of one?)`);
      return new CliError(`${serverUrl} answered ${response.status}: ${detail}`);
  }
}
