import { Command, Option } from "clipanion";
import { t } from "../../typanion.js";
import { formatDuration, formatJson, formatTable } from "../format.js";
import { ServerCommand } from "../server-command.js";

export class RunsCommand extends ServerCommand {
  static override paths = [["runs"]];

  static override usage = Command.Usage({
    description: "List a server's runs, newest first",
    examples: [
      ["The last 20 runs", "$0 runs http://127.0.0.1:8842"],
      ["The last 5 deploys, as JSON", "$0 runs --task deploy --limit 5 --json http://127.0.0.1:8842"],
    ],
  });

  json = Option.Boolean("--json", false, { description: "Print JSON" });
  task = Option.String("--task", { description: "Only runs of this task" });
  limit = Option.String("--limit", "20", {
    description: "How many runs at most (1-1000)",
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1, 1000)]),
  });
  serverUrl = Option.String({ name: "SERVER_URL" });

  protected async run(): Promise<number> {
    const { apiFailure, createApiClient } = await import("../api-client.js");
    const client = createApiClient(this.serverUrl, await this.resolveToken());
    const { data, error, response } = await client.GET("/v1/runs", {
      params: { query: { task: this.task, limit: this.limit } },
    });
    if (!data) throw apiFailure(response, error, this.serverUrl);
    if (this.json) {
      this.context.stdout.write(formatJson(data));
      return 0;
    }
    const rows = data.runs.map((run) => [
      run.id,
      run.task,
      run.status,
      run.exitCode === null ? (run.signal ?? "-") : String(run.exitCode),
      run.startedAt,
      formatDuration(run.durationMs),
    ]);
    this.context.stdout.write(formatTable(["RUN", "TASK", "STATUS", "EXIT", "STARTED", "DURATION"], rows));
    return 0;
  }
}
