import { Command, Option } from "clipanion";
import { formatJson } from "../format.js";
import { ServerCommand } from "../server-command.js";

export class CancelCommand extends ServerCommand {
  static override paths = [["cancel"]];

  static override usage = Command.Usage({
    description: "Cancel a running run",
    details: `
      Asks the server to stop the run: SIGTERM to the task's whole process group, then SIGKILL
      after the server's grace period. Returns at once; \`sdci-cli logs --follow\` shows the end.
    `,
    examples: [["Cancel a run", "$0 cancel http://127.0.0.1:8842 20261203T160755123Z-a1b2c3"]],
  });

  json = Option.Boolean("--json", false, { description: "Print the run as JSON" });
  serverUrl = Option.String({ name: "SERVER_URL" });
  runId = Option.String({ name: "RUN_ID" });

  protected async run(): Promise<number> {
    const { apiFailure, createApiClient } = await import("../api-client.js");
    const client = createApiClient(this.serverUrl, await this.resolveToken());
    const { data, error, response } = await client.POST("/v1/runs/{id}/cancel", {
      params: { path: { id: this.runId } },
    });
    if (!data) throw apiFailure(response, error, this.serverUrl, `run ${this.runId}`);
    this.context.stdout.write(this.json ? formatJson(data) : `cancelling run ${data.id} (${data.task})\n`);
    return 0;
  }
}
