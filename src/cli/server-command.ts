import { Command, Option } from "clipanion";
import { describeFailure } from "./cli-error.js";
import { trustCaCertificate } from "./tls.js";
import { resolveToken } from "./token.js";

/**
 * A command that talks to one server: takes `--token` and `--ca-cert`, and prints failures
 * as one line. Subclasses import the API client and anything else that pulls in a package
 * inside `run()`, so `--help` and `--version` load nothing but clipanion (test/startup.test.ts
 * holds them to it).
 */
export abstract class ServerCommand extends Command {
  token = Option.String("--token", { description: "The server's token (else SDCI_TOKEN, else the OS keychain)" });
  caCert = Option.String("--ca-cert", {
    description: "Trust the CA (PEM) that signed an https server's certificate (or set NODE_EXTRA_CA_CERTS)",
  });
  abstract serverUrl: string;

  protected abstract run(): Promise<number>;

  async execute(): Promise<number> {
    try {
      if (this.caCert !== undefined) await trustCaCertificate(this.caCert);
      return await this.run();
    } catch (error) {
      this.context.stderr.write(`sdci-cli: ${describeFailure(error, this.serverUrl)}\n`);
      return 1;
    }
  }

  protected resolveToken(): Promise<string> {
    return resolveToken(this.token, this.serverUrl);
  }
}
