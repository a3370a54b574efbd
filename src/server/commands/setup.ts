import { Command, Option } from "clipanion";
import { installService } from "../systemd/install-service.js";
import { currentHost } from "../systemd/service-host.js";

export class SetupCommand extends Command {
  static override paths = [["setup"]];

  static override usage = Command.Usage({
    description: "Install the server as a systemd service",
    details: `
      Writes the token to \`/etc/sdci/<service-name>.env\` (root only, mode 0600) and a unit
      \`/etc/systemd/system/<service-name>.service\` that starts this package's server with node
      as \`--user\` at boot, then runs \`systemctl daemon-reload\`, \`enable\` and \`restart\`.
      Missing tasks, uploads and data folders are created for that user.

      The token comes from stdin (first line), \`--token-file\`, or \`--token\` (which other users
      can read in the process list). Not run as root, it uses sudo for the steps that need root.
      An existing unit is replaced only after a "y" on stdin, or with \`--force\`. \`--dry-run\`
      shows the files (token hidden) and the commands, and writes nothing.
    `,
    examples: [
      ["Make a token only you can read", "umask 077 && openssl rand -hex 32 > ~/.sdci-token"],
      ["Read what setup would do", "$0 setup --ip 10.0.0.5 --token-file ~/.sdci-token --dry-run"],
      ["Install the service sdci, running as you", "$0 setup --ip 10.0.0.5 --token-file ~/.sdci-token"],
      ["Run as another user, second instance", "$0 setup --ip 10.0.0.5 --port 8843 --user deploy --service-name sdci-staging --token-file ~/.sdci-token"],
    ],
  });

  ip = Option.String("--ip", { description: "Address the server listens on (required)" });
  port = Option.String("--port", "8842", { description: "Port the server listens on" });
  token = Option.String("--token", { description: "The server token (visible in the process list: prefer stdin or --token-file)" });
  tokenFile = Option.String("--token-file", { description: "A file whose first line is the token" });
  tasksDir = Option.String("--tasks-dir", { description: "Folder of <task>.sh scripts (default: ~USER/.sdci/tasks)" });
  uploadsDir = Option.String("--uploads-dir", { description: "Folder that receives uploads (default: ~USER/.sdci/uploads)" });
  dataDir = Option.String("--data-dir", { description: "Folder for run history and logs (default: ~USER/.sdci/data)" });
  user = Option.String("--user,--run_as_user", { description: "Account the service runs as (default: you; under sudo, SUDO_USER)" });
  serviceName = Option.String("--service-name", "sdci", { description: "Name of the unit and of its env file" });
  force = Option.Boolean("--force", false, { description: "Replace an existing unit without asking" });
  dryRun = Option.Boolean("--dry-run", false, { description: "Show the files and commands; write nothing" });
  root = Option.String("--root", { description: "Write under this folder instead of / (tests, images); no sudo; systemctl only with --systemctl" });
  systemctl = Option.String("--systemctl", { description: "The systemctl program to run (default: systemctl on PATH)" });

  execute(): Promise<number> {
    return installService(
      {
        ip: this.ip,
        port: this.port,
        token: this.token,
        tokenFile: this.tokenFile,
        tasksDir: this.tasksDir,
        uploadsDir: this.uploadsDir,
        dataDir: this.dataDir,
        user: this.user,
        serviceName: this.serviceName,
        force: this.force,
        dryRun: this.dryRun,
        root: this.root,
        systemctl: this.systemctl,
      },
      currentHost(this.context),
    );
  }
}
