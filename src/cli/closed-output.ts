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
 * Any other failure to write stdout (the task's output, the command's result) gets its one
 * line, and no stack trace. Any other failure to write stderr (a full disk under a log file)
 * is let be: only progress and messages are lost, and a deploy must not be cut short for
 * them; the exit code still tells how the work went.
 */
export function exitWhenOutputCloses(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(CLOSED_OUTPUT_EXIT_CODE);
    process.stderr.write(`sdci-cli: cannot write to stdout: ${error.code ?? error.message}\n`);
    process.exit(1);
  });
  process.stderr.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(CLOSED_OUTPUT_EXIT_CODE);
  });
}
