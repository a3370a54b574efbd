import { Command, Option } from "clipanion";
import { normalizeServerUrl } from "../server-url.js";
import { CliError, describeFailure } from "../cli-error.js";

export class DeleteTokenCommand extends Command {
  static override paths = [["delete-token"]];

  static override usage = Command.Usage({
    description: "Delete a server's token from the OS keychain",
    details: `
      Removes what \`store-token\` stored for SERVER_URL, together with any entry an older SDCI
      client stored under the same URL with or without a trailing slash. Exits 1 when there was
      nothing to delete.
    `,
    examples: [["Forget the token of a server", "$0 delete-token http://127.0.0.1:8842"]],
  });

  serverUrl = Option.String({ name: "SERVER_URL" });

  async execute(): Promise<number> {
    try {
      const url = normalizeServerUrl(this.serverUrl);
      const { deleteStoredToken, keychainFailure } = await import("../keychain.js");
      let deleted: number;
      try {
        deleted = await deleteStoredToken(this.serverUrl);
      } catch (error) {
        throw keychainFailure(`cannot delete the token for ${url}`, error);
      }
      if (deleted === 0) throw new CliError(`no token stored for ${url} in the OS keychain`);
      this.context.stdout.write(`deleted the token for ${url} from the OS keychain\n`);
      return 0;
    } catch (error) {
      this.context.stderr.write(`sdci-cli: ${describeFailure(error)}\n`);
      return 1;
    }
  }
}
