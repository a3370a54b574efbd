/** A failure the user can act on: printed as one line on stderr, never with a stack. */
export class CliError extends Error {}

/** One line for any failure: the CliError's own words, or a plain reading of a network error. */
export function describeFailure(error: unknown, serverUrl?: string): string {
  if (error instanceof CliError) return error.message;
  const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
  const where = serverUrl ? `cannot reach ${serverUrl}` : "cannot reach the server";
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
    default:
      break;
  }
  if (cause?.code) return `${where}: ${cause.code}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
