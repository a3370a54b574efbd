#!/usr/bin/env node
import { Builtins, Cli } from "clipanion";
import { packageVersion } from "../package-info.js";
import { DeleteTokenCommand } from "./commands/delete-token.js";
import { RunCommand } from "./commands/run.js";
import { StoreTokenCommand } from "./commands/store-token.js";

const cli = new Cli({
  binaryLabel: "SDCI client",
  binaryName: "sdci-cli",
  binaryVersion: packageVersion,
  enableColors: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
});
cli.register(RunCommand);
cli.register(StoreTokenCommand);
cli.register(DeleteTokenCommand);
cli.register(Builtins.HelpCommand);
cli.register(Builtins.VersionCommand);
cli.runExit(process.argv.slice(2));
