import { Command, Option } from "clipanion";
import { ServerCommand } from "../server-command.js";

export class LogsCommand extends ServerCommand {
  static override paths = [["logs"]];

  static override usage = Command.Usage({
    description: "Print a run's output, or follow it until it ends",
    details: `
      Without \`--follow\`: the output recorded so far, both streams in the order they were written,
      on stdout. With \`--follow\`: the whole output from the start, stdout to stdout and stderr to
      stderr, then live until the run ends; the exit code is then the run's, as with \`run\`.
    `,
    examples: [
      ["Print a finished run's output", "$0 logs http://127.0.0.1:8842 20261203T160755123Z-a1b2c3"],
      ["Follow a run started elsewhere", "$0 logs --follow http://127.0.0.1:8842 20261203T160755123Z-a1b2c3"],
    ],
  });

  follow = Option.Boolean("-f,--follow", false, { description: "Follow the run until it ends" });
  serverUrl = Option.String({ name: "SERVER_URL" });
  runId = Option.String({ name: "RUN_ID" });

  protected async run(): Promise<number> {
    const { apiFailure, createApiClient } = await import("../api-client.js");
    const client = createApiClient(this.serverUrl, await this.resolveToken());
    if (this.follow) {
      const { endOfRunLine, exitCodeOf, followRun } = await import("../run-follower.js");
      const exit = await followRun({
        client,
        serverUrl: this.serverUrl,
        runId: this.runId,
        stdout: this.context.stdout,
        stderr: this.context.stderr,
      });
      const last = endOfRunLine(`run ${this.runId}`, exit);
      if (last) this.context.stderr.write(last);
      return exitCodeOf(exit);
    }
    const { data, error, response } = await client.GET("/v1/runs/{id}/log", {
      params: { path: { id: this.runId } },
      parseAs: "stream",
    });
    if (!data) throw apiFailure(response, error, this.serverUrl, `run ${this.runId}`);
    for await (const chunk of data as unknown as AsyncIterable<Uint8Array>) this.context.stdout.write(chunk);
    return 0;
  }
}
