import { SetupError } from "./setup-error.js";

/**
 * Quoting for the values SDCI writes into unit files and environment files, following
 * systemd.syntax(7), systemd.service(5) "Command lines" and systemd.exec(5) "EnvironmentFile=".
 */

const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** A line break would end the setting and start a new one: no value of ours may hold one. */
function assertNoControlCharacters(what: string, value: string): void {
  if (CONTROL_CHARACTER.test(value)) {
    throw new SetupError(`${what} contains a control character (a line break, tab or NUL), which a systemd file cannot hold`);
  }
}

/** `%` starts a specifier (`%h`, `%n`...) in any unit-file value; `%%` is a literal percent. */
export function escapeSpecifiers(value: string): string {
  return value.replaceAll("%", "%%");
}

/**
 * One argument of `ExecStart=` as a double-quoted word: `\` and `"` are C-escaped, `%` doubled
 * so no specifier expands, `$` doubled so no variable is substituted at start.
 */
export function quoteExecArgument(what: string, value: string): string {
  assertNoControlCharacters(what, value);
  const escaped = value.replace(/[\\"]/g, "\\$&").replace(/[%$]/g, (sign) => sign + sign);
  return `"${escaped}"`;
}

/**
 * The program of `ExecStart=`: systemd refuses quotes and backslashes in it outright, and
 * versions differ on `$` there, so those are refused here with a clear reason.
 */
export function quoteExecutable(what: string, path: string): string {
  assertNoControlCharacters(what, path);
  if (/["'\\$]/.test(path)) {
    throw new SetupError(`${what} ${JSON.stringify(path)} contains a quote, a backslash or a $, which systemd cannot start`);
  }
  return `"${escapeSpecifiers(path)}"`;
}

/**
 * A path setting such as `WorkingDirectory=`: not unquoted by systemd, so written as is with
 * `%%`; surrounding blanks would be stripped and a final `\` would join the next line.
 */
export function unitPathValue(what: string, path: string): string {
  assertNoControlCharacters(what, path);
  if (/^\s|\s$|\\$/.test(path)) {
    throw new SetupError(`${what} ${JSON.stringify(path)} starts or ends with a blank or ends with a backslash, which a unit file cannot hold`);
  }
  return escapeSpecifiers(path);
}

/**
 * A value of an `EnvironmentFile=` line, double-quoted: inside, `\` keeps the next `"`, `\`,
 * `` ` `` or `$` literal; nothing is expanded; `#`, `;`, `%`, `'` and blanks are plain text.
 */
export function quoteEnvironmentValue(what: string, value: string): string {
  assertNoControlCharacters(what, value);
  return `"${value.replace(/[\\"`$]/g, "\\$&")}"`;
}
