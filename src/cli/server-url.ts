import { CliError } from "./cli-error.js";

/**
 * The server URL as the user means it: http(s) only, no trailing slash. Apart from the API
 * client so the keychain commands can use it without loading openapi-fetch at startup.
 */
export function normalizeServerUrl(serverUrl: string): string {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new CliError(`not a server URL: '${serverUrl}' (expected something like http://127.0.0.1:8842)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError(`not a server URL: '${serverUrl}' (use http:// or https://)`);
  }
  return serverUrl.replace(/\/+$/, "");
}
