import { escapeSpecifiers, quoteEnvironmentValue, quoteExecArgument, quoteExecutable, unitPathValue } from "./systemd-syntax.js";

/** Everything the unit file says, already validated. */
export interface ServiceSpec {
  serviceName: string;
  /** The account the server runs as. */
  user: string;
  host: string;
  port: number;
  tasksDir: string;
  uploadsDir: string;
  dataDir: string;
  /** The node binary, started directly: no npm, no shell between systemd and the server. */
  nodePath: string;
  /** dist/server/main.js of this package. */
  entryPoint: string;
}

/** The variable `sdci-server serve` reads its token from. */
export const TOKEN_VARIABLE = "SDCI_SERVER_TOKEN";

/** The first words of every unit setup writes: how setup and uninstall know their own. */
export const WRITTEN_BY_SETUP = "# Written by `sdci-server setup`";

export function unitFilePath(serviceName: string): string {
  return `/etc/systemd/system/${serviceName}.service`;
}

/** Beside, not inside, the unit: unit files are world-readable, this file is root's alone. */
export function environmentFilePath(serviceName: string): string {
  return `/etc/sdci/${serviceName}.env`;
}

/** The unit file: no secret in it, only a pointer to the environment file. */
export function renderServiceUnit(spec: ServiceSpec): string {
  const execStart = [
    quoteExecutable("the node binary", spec.nodePath),
    ...[
      spec.entryPoint,
      "serve",
      "--host",
      spec.host,
      "--port",
      String(spec.port),
      "--tasks-dir",
      spec.tasksDir,
      "--uploads-dir",
      spec.uploadsDir,
      "--data-dir",
      spec.dataDir,
    ].map((argument) => quoteExecArgument("an ExecStart argument", argument)),
  ].join(" ");
  return [
    `${WRITTEN_BY_SETUP}; \`sdci-server uninstall --service-name ${spec.serviceName}\` removes it.`,
    "# The token is in the EnvironmentFile (root only, mode 0600), never in this world-readable file.",
    "[Unit]",
    `Description=SDCI deployment server (${spec.serviceName})`,
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    // exec: a missing node or entry point fails `systemctl restart` instead of passing silently.
    "Type=exec",
    `User=${escapeSpecifiers(spec.user)}`,
    `WorkingDirectory=${unitPathValue("the tasks folder", spec.tasksDir)}`,
    `EnvironmentFile=${environmentFilePath(spec.serviceName)}`,
    `ExecStart=${execStart}`,
    // The server stops its running task group itself on SIGTERM; whatever is left goes after.
    "KillMode=mixed",
    "Restart=on-failure",
    "RestartSec=2",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/** The environment file: the token only. */
export function renderEnvironmentFile(token: string): string {
  return `${TOKEN_VARIABLE}=${quoteEnvironmentValue("the token", token)}\n`;
}
