import { Command, Option } from "clipanion";
import { formatJson, formatTable } from "../format.js";
import { ServerCommand } from "../server-command.js";

export class TasksCommand extends ServerCommand {
  static override paths = [["tasks"]];

  static override usage = Command.Usage({
    description: "List the tasks a server can run",
    examples: [["List tasks", "$0 tasks http://127.0.0.1:8842"]],
  });

  json = Option.Boolean("--json", false, { description: "Print JSON" });
  serverUrl = Option.String({ name: "SERVER_URL" });

  protected async run(): Promise<number> {
    const { apiFailure, createApiClient } = await import("../api-client.js");
    const client = createApiClient(this.serverUrl, await this.resolveToken());
    const { data, error, response } = await client.GET("/v1/tasks");
    if (!data) throw apiFailure(response, error, this.serverUrl);
    this.context.stdout.write(
      this.json
        ? formatJson(data)
        : formatTable(["TASK", "DESCRIPTION"], data.tasks.map((task) => [task.name, task.description])),
    );
    return 0;
  }
}
