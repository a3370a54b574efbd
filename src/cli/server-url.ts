import { CliError } from "./cli-error.js";

/**
 * The server URL as the user means it: http(s) only, no trailing slash. Apart from the API
 * client so the keychain commands can use it without loading openapi-fetch at startup.
 */
export function normalizeServerUrl(serverUrl: string): string {
  // The URL parser drops blanks around it, but the rest of the CLI would carry them along.
  if (/\s/.test(serverUrl)) throw new CliError(`not a server URL: ${JSON.stringify(serverUrl)} holds a blank`);
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new CliError(`not a server URL: '${serverUrl}' (expected something like http://127.0.0.1:8842)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError(`not a server URL: '${serverUrl}' (use http:// or https://)`);
  }
  // Not shown: what is there may be a password.
  if (url.username || url.password) {
    throw new CliError("SERVER_URL may not hold a user or password: pass the token with --token or SDCI_TOKEN");
  }
  // API paths are appended to SERVER_URL, which a query or fragment would swallow.
  if (url.search || url.hash || /[?#]/.test(serverUrl)) {
    throw new CliError(`SERVER_URL may not have a query or fragment: '${serverUrl}'`);
  }
  return serverUrl.replace(/\/+$/, "");
}
