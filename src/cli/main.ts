#!/usr/bin/env node
import { Builtins } from "clipanion";
import { OneLineErrorCli } from "../one-line-cli.js";
import { packageVersion } from "../package-info.js";
import { exitWhenOutputCloses } from "./closed-output.js";
import { CancelCommand } from "./commands/cancel.js";
import { DeleteTokenCommand } from "./commands/delete-token.js";
import { LogsCommand } from "./commands/logs.js";
import { RunCommand } from "./commands/run.js";
import { UploadAssetCommand } from "./commands/upload-asset.js";
import { RunsCommand } from "./commands/runs.js";
import { StatusCommand } from "./commands/status.js";
import { StoreTokenCommand } from "./commands/store-token.js";
import { TasksCommand } from "./commands/tasks.js";

const cli = new OneLineErrorCli({
  binaryLabel: "SDCI client",
  binaryName: "sdci-cli",
  binaryVersion: packageVersion,
  enableColors: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
});
cli.register(RunCommand);
cli.register(UploadAssetCommand);
cli.register(LogsCommand);
cli.register(CancelCommand);
cli.register(RunsCommand);
cli.register(TasksCommand);
cli.register(StatusCommand);
cli.register(StoreTokenCommand);
cli.register(DeleteTokenCommand);
cli.register(Builtins.HelpCommand);
cli.register(Builtins.VersionCommand);
exitWhenOutputCloses();
cli.runExit(process.argv.slice(2));
