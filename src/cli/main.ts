#!/usr/bin/env node
import { Builtins, Cli } from "clipanion";
import { packageVersion } from "../package-info.js";
import { RunCommand } from "./commands/run.js";
import { UploadAssetCommand } from "./commands/upload-asset.js";

const cli = new Cli({
  binaryLabel: "SDCI client",
  binaryName: "sdci-cli",
  binaryVersion: packageVersion,
  enableColors: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
});
cli.register(RunCommand);
cli.register(UploadAssetCommand);
cli.register(Builtins.HelpCommand);
cli.register(Builtins.VersionCommand);
cli.runExit(process.argv.slice(2));
