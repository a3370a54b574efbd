/**
 * The exit code once the reader of stdout or stderr has gone (`sdci-cli run ... | head -n 1`):
 * 128 + SIGPIPE, what a shell reports for a program that SIGPIPE ended. Node ignores SIGPIPE,
 * so a write fails with EPIPE instead; answering as `yes | head` does keeps `set -o pipefail`
 * scripts and shells' `$?` telling the same story as for any other command.
 */
export const CLOSED_OUTPUT_EXIT_CODE = 141;

/**
 * Ends the process quietly when the reader of its output goes away: nothing more can be shown,
 * and leaving is what a detach does (a run goes on on the server, an upload is dropped unkept).
 * Any other write failure still gets its one line, and no stack trace.
 */
export function exitWhenOutputCloses(): void {
  for (const [name, stream] of [
    ["stdout", process.stdout],
    ["stderr", process.stderr],
  ] as const) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(CLOSED_OUTPUT_EXIT_CODE);
      if (name === "stdout") process.stderr.write(`sdci-cli: cannot write to stdout: ${error.code ?? error.message}\n`);
      process.exit(1);
    });
  }
}
