import { formatSeconds, serverTimeouts } from "./server-timeouts.js";

/** A failure the user can act on: printed as one line on stderr, never with a stack. */
export class CliError extends Error {}

/** Why a local file or folder could not be read, in words rather than an errno name. */
export function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or folder";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ENAMETOOLONG") return "its path is too long for this system";
  return code ?? (error as Error).message;
}

/**
 * A server that took the connection, then stayed quiet for longer than the CLI waits. Its
 * message completes "SERVER_URL ...", so it reads the same whichever client noticed.
 */
export class ServerSilence extends Error {}

/**
 * One line for any failure: the CliError's own words, or a plain reading of a network error.
 * A line break or other control character inside (a file name, another program's text) is
 * shown escaped, so the message stays one line whatever it quotes.
 */
export function describeFailure(error: unknown, serverUrl?: string): string {
  return describeInWords(error, serverUrl).replace(/[\u0000-\u001f\u007f]/g, (control) => JSON.stringify(control).slice(1, -1));
}

function describeInWords(error: unknown, serverUrl?: string): string {
  if (error instanceof CliError) return error.message;
  const certificate = certificateProblem(error);
  if (certificate) return `${serverUrl ? `${serverUrl}: ` : ""}${certificate}`;
  const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
  const server = serverUrl ?? "the server";
  const silence = [error, cause].find((candidate) => candidate instanceof ServerSilence);
  if (silence) return `${server} ${silence.message}`;
  const where = `cannot reach ${server}`;
  switch (cause?.code) {
    case "ECONNREFUSED":
      return `${where}: connection refused (is sdci-server running there?)`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `${where}: unknown host`;
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return `${where}: the connection timed out`;
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
      return `${where}: the connection was closed by the other side`;
    // undici's, with the limits the API client gave it.
    case "UND_ERR_HEADERS_TIMEOUT":
      return `${server} accepted the connection but sent no answer within ${formatSeconds(serverTimeouts().answerMs)}`;
    case "UND_ERR_BODY_TIMEOUT":
      return `${server} stopped sending in the middle of its answer (nothing for ${formatSeconds(serverTimeouts().idleMs)})`;
    default:
      break;
  }
  // llhttp's parse errors (HPE_INVALID_CONSTANT, ...; undici's HTTPParserError may carry no
  // code): something answered, but not in HTTP.
  const parseError =
    cause?.name === "HTTPParserError" || [cause?.code, (error as NodeJS.ErrnoException).code].some((code) => code?.startsWith("HPE_"));
  if (parseError) return `${server} answered with something that is not HTTP (is an sdci-server listening there?)`;
  if (cause?.code) return `${where}: ${cause.code}`;
  // fetch refuses some ports outright (the Fetch standard's "bad ports", 1, 9, 6000 ...),
  // with a cause that has a message but no code.
  if (cause?.message === "bad port") return `${where}: fetch never connects to this port; run the server on another one`;
  if (cause?.message) return `${where}: ${cause.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** OpenSSL's verdicts that mean "signed by no authority this client trusts". */
const UNTRUSTED_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
]);

/** One line about a certificate or handshake the client refused; undefined for any other error. */
export function certificateProblem(error: unknown): string | undefined {
  const code = (error as { cause?: NodeJS.ErrnoException }).cause?.code ?? (error as NodeJS.ErrnoException).code;
  if (code === undefined) return undefined;
  if (UNTRUSTED_CODES.has(code)) {
    return "the server's certificate is not trusted: pass --ca-cert FILE or set NODE_EXTRA_CA_CERTS";
  }
  if (code === "CERT_HAS_EXPIRED") return "the server's certificate has expired";
  if (code === "CERT_NOT_YET_VALID") return "the server's certificate is not valid yet (check the clocks)";
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return "the server's certificate is for another host name or address";
  if (code === "EPROTO" || code.startsWith("ERR_SSL_")) {
    return "the TLS handshake failed (is the server serving https? use http:// if not)";
  }
  return undefined;
}
