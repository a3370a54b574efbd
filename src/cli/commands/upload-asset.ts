import { Command, Option } from "clipanion";
import { ServerCommand } from "../server-command.js";

export class UploadAssetCommand extends ServerCommand {
  static override paths = [["upload-asset"]];

  static override usage = Command.Usage({
    description: "Upload a file or a folder to the server, atomically",
    details: `
      Sends LOCAL to the server's uploads folder: a file lands at \`REMOTE_PATH/<its name>\`, a
      folder (sent as a tar stream) at \`REMOTE_PATH/<its name>/\`. The server keeps it only when
      every byte arrived and matches the SHA-256 the CLI computed; otherwise nothing appears there.
      An existing destination is never replaced: choose a new REMOTE_PATH (a version, say).

      A progress bar with bytes, rate and ETA is shown on a terminal (plain lines otherwise); it
      reaches 100% when the server has confirmed. The token comes from \`--token\`, else
      \`SDCI_TOKEN\`, else the OS keychain (see \`store-token\`).
    `,
    examples: [
      ["Upload a release archive to releases/v1.2.3/app.tar.gz", "$0 upload-asset http://127.0.0.1:8842 ./app.tar.gz releases/v1.2.3"],
      ["Upload a build folder to releases/v1.2.3/dist/", "$0 upload-asset http://127.0.0.1:8842 ./dist releases/v1.2.3"],
    ],
  });

  serverUrl = Option.String({ name: "SERVER_URL" });
  local = Option.String({ name: "LOCAL" });
  remotePath = Option.String({ name: "REMOTE_PATH" });

  protected async run(): Promise<number> {
    const { uploadAsset } = await import("../asset-upload.js");
    return uploadAsset({
      serverUrl: this.serverUrl,
      token: await this.resolveToken(),
      local: this.local,
      remotePath: this.remotePath,
      stdout: this.context.stdout,
      stderr: this.context.stderr,
    });
  }
}
