import { Command, Option } from "clipanion";
import type { ApiClient } from "../api-client.js";
import { CliError, describeFailure } from "../cli-error.js";
import { InterruptHandler } from "../interrupt-handler.js";
import { ServerCommand } from "../server-command.js";

export class RunCommand extends ServerCommand {
  static override paths = [["run"]];

  static override usage = Command.Usage({
    description: "Run a task on the server and show its output live",
    details: `
      Starts TASK on the server with PARAMS as its \`$1..$n\` (passed as they are, never through a
      shell), prints its stdout to stdout and its stderr to stderr as they are written, and exits
      with the task's exit code (128 + N when signal N ended it).

      Options go before SERVER_URL: everything after TASK is a parameter of the task, even
      words that start with a dash. The token comes from \`--token\`, else \`SDCI_TOKEN\`, else
      the OS keychain (see \`store-token\`).

      If the connection drops, the CLI reconnects and resumes the output where it stopped, for up
      to a minute; the run itself goes on on the server whatever happens to the connection.

      Ctrl-C once cancels the run on the server (SIGTERM to its process group, SIGKILL after the
      server's grace) and keeps showing its output until it has ended; a cancel that cannot
      reach the server is sent again. Ctrl-C again stops waiting (exit 130) once the server has
      the cancel; a third time leaves at once.
    `,
    examples: [
      ["Deploy version v1.2.3", "$0 run http://127.0.0.1:8842 deploy v1.2.3"],
      ["With the token in a flag", "$0 run --token \"$TOKEN\" https://ci.example.org deploy --dry-run"],
    ],
  });

  serverUrl = Option.String({ name: "SERVER_URL" });
  task = Option.String({ name: "TASK" });
  params = Option.Proxy({ name: "PARAMS" });

  protected async run(): Promise<number> {
    const { createApiClient } = await import("../api-client.js");
    const client = createApiClient(this.serverUrl, await this.resolveToken());
    const interrupts = new InterruptHandler(this.context.stderr, this.serverUrl, async (id) => {
      const { response } = await client.POST("/v1/runs/{id}/cancel", { params: { path: { id } } });
      if (response.status === 202) return "accepted";
      if (response.status === 409) return "ended";
      // A server restarting or a proxy between: worth another try.
      if (response.status >= 500 || response.status === 429) throw new Error(`answered ${response.status}`);
      return "refused";
    });
    try {
      return await this.#startAndFollow(client, interrupts);
    } finally {
      interrupts.dispose();
    }
  }

  async #startAndFollow(client: ApiClient, interrupts: InterruptHandler): Promise<number> {
    const { apiFailure } = await import("../api-client.js");
    const { endOfRunLine, eventStream, exitCodeOf, followRun } = await import("../run-follower.js");
    const { data, error, response } = await client
      .POST("/v1/tasks/{task}/runs", {
        params: { path: { task: this.task } },
        body: { params: this.params },
        headers: { Accept: "text/event-stream" },
        parseAs: "stream",
      })
      .catch((failure: unknown) => {
        throw lostAfterAsking(failure, this.serverUrl) ?? failure;
      });
    if (!response.ok || !data) throw apiFailure(response, error, this.serverUrl, `task '${this.task}'`);
    const exit = await followRun({
      client,
      serverUrl: this.serverUrl,
      firstStream: mayHaveStarted(() => eventStream(response, data, this.serverUrl), this.serverUrl),
      stdout: this.context.stdout,
      stderr: this.context.stderr,
      onRunId: (id) => interrupts.runStarted(id),
    });
    const last = endOfRunLine(`task '${this.task}'`, exit);
    if (last) this.context.stderr.write(last);
    return exitCodeOf(exit);
  }
}

/**
 * A request that reached the server and then lost its answer (the connection closed, or no
 * answer came in time) may have started the run: say so, never that it could not be reached.
 */
function lostAfterAsking(failure: unknown, serverUrl: string): CliError | undefined {
  const code = (failure as { cause?: NodeJS.ErrnoException }).cause?.code;
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return maybeStarted(`the connection to ${serverUrl} was lost before its answer`, serverUrl);
  if (code === "UND_ERR_HEADERS_TIMEOUT") return maybeStarted(describeFailure(failure, serverUrl), serverUrl);
  return undefined;
}

/** A 2xx that is not a run's stream still answered a POST that may have started the run. */
function mayHaveStarted<T>(read: () => T, serverUrl: string): T {
  try {
    return read();
  } catch (error) {
    throw maybeStarted((error as Error).message, serverUrl);
  }
}

/** `what` went wrong after the server was asked to start the run: it may have. */
function maybeStarted(what: string, serverUrl: string): CliError {
  return new CliError(`${what}, so the run may have started or not (see: sdci-cli runs ${serverUrl})`);
}
