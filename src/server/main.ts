#!/usr/bin/env node
import { Builtins } from "clipanion";
import { OneLineErrorCli } from "../one-line-cli.js";
import { packageVersion } from "../package-info.js";
import { ServeCommand } from "./commands/serve.js";
import { SetupCommand } from "./commands/setup.js";
import { UninstallCommand } from "./commands/uninstall.js";

const cli = new OneLineErrorCli({
  binaryLabel: "SDCI server",
  binaryName: "sdci-server",
  binaryVersion: packageVersion,
  enableColors: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
});
cli.register(ServeCommand);
cli.register(SetupCommand);
cli.register(UninstallCommand);
cli.register(Builtins.HelpCommand);
cli.register(Builtins.VersionCommand);
// Output nobody reads any more (`sdci-server setup | head -3`, a closed terminal) must not end
// the work half done with a stack trace: a setup goes on to its last step, a server serves on.
// What failed is told by the exit code, as ever.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});
cli.runExit(process.argv.slice(2));
