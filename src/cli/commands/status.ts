import { Command, Option } from "clipanion";
import { CliError } from "../cli-error.js";
import { formatJson } from "../format.js";
import { ServerCommand } from "../server-command.js";

export class StatusCommand extends ServerCommand {
  static override paths = [["status"]];

  static override usage = Command.Usage({
    description: "Show whether a server is idle or busy, and with what",
    examples: [["Is the server free for a deploy?", "$0 status http://127.0.0.1:8842"]],
  });

  json = Option.Boolean("--json", false, { description: "Print JSON" });
  serverUrl = Option.String({ name: "SERVER_URL" });

  protected async run(): Promise<number> {
    const { apiFailure, createApiClient } = await import("../api-client.js");
    const client = createApiClient(this.serverUrl, await this.resolveToken());
    const { data, error, response } = await client.GET("/v1/status");
    if (!data) throw apiFailure(response, error, this.serverUrl);
    // Whatever else answers at SERVER_URL (a web server, another service) may say 200 with JSON too.
    const busy = (data as { busy?: unknown }).busy;
    if (typeof data.version !== "string" || (busy !== null && (typeof busy !== "object" || busy === undefined))) {
      throw new CliError(`${this.serverUrl} answered 200 but not with an sdci-server's status (is it an sdci-server?)`);
    }
    const state = data.busy ? `busy: ${data.busy.kind} ${data.busy.id}` : "idle";
    this.context.stdout.write(this.json ? formatJson(data) : `${state}\nserver version ${data.version}\n`);
    return 0;
  }
}
