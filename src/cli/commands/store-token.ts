import { text } from "node:stream/consumers";
import { Command, Option } from "clipanion";
import { normalizeServerUrl } from "../server-url.js";
import { CliError, describeFailure } from "../cli-error.js";
import { usableToken } from "../token.js";

export class StoreTokenCommand extends Command {
  static override paths = [["store-token"]];

  static override usage = Command.Usage({
    description: "Store a server's token in the OS keychain",
    details: `
      Keeps TOKEN in the OS keychain (the Secret Service on Linux: gnome-keyring, KWallet or
      KeePassXC; the Keychain on macOS; the Credential Manager on Windows) under the service
      \`SDCI_token\` and the server URL without its trailing slash. \`run\` and the other commands
      then find it when neither \`--token\` nor \`SDCI_TOKEN\` is given.

      Without TOKEN the token is read from stdin: typed at a hidden prompt on a terminal, or
      piped in (one line). That keeps it out of the shell history and the process list.
    `,
    examples: [
      ["Type the token at a hidden prompt", "$0 store-token http://127.0.0.1:8842"],
      ["Pipe it in from a file", "$0 store-token https://ci.example.org < token.txt"],
    ],
  });

  serverUrl = Option.String({ name: "SERVER_URL" });
  token = Option.String({ name: "TOKEN", required: false });

  async execute(): Promise<number> {
    try {
      const url = normalizeServerUrl(this.serverUrl);
      const token = this.token !== undefined ? usableToken(this.token, "the TOKEN argument") : await this.readToken(url);
      const { keychainFailure, storeToken } = await import("../keychain.js");
      try {
        await storeToken(this.serverUrl, token);
      } catch (error) {
        throw keychainFailure(`cannot store the token for ${url}`, error);
      }
      this.context.stdout.write(`stored the token for ${url} in the OS keychain\n`);
      return 0;
    } catch (error) {
      this.context.stderr.write(`sdci-cli: ${describeFailure(error)}\n`);
      return 1;
    }
  }

  /** The token from stdin: a hidden prompt on a terminal, else the one line piped in. */
  private async readToken(url: string): Promise<string> {
    const stdin = this.context.stdin as NodeJS.ReadStream;
    let token: string;
    if (stdin.isTTY) {
      const { read } = await import("read");
      const prompt = `Token for ${url}: `;
      token = await read({ prompt, silent: true, replace: "", input: stdin, output: this.context.stderr });
    } else {
      token = (await text(stdin)).replace(/\r?\n$/, "");
    }
    if (!token) throw new CliError(`no token given for ${url} (give it as an argument or on stdin)`);
    if (/[\r\n]/.test(token)) throw new CliError("expected the token alone on one line on stdin");
    return usableToken(token, "stdin");
  }
}
