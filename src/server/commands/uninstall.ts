import { Command, Option } from "clipanion";
import { removeService } from "../systemd/remove-service.js";
import { currentHost } from "../systemd/service-host.js";

export class UninstallCommand extends Command {
  static override paths = [["uninstall"]];

  static override usage = Command.Usage({
    description: "Remove the systemd service that setup installed",
    details: `
      Runs \`systemctl disable --now\` on the service, removes its unit and its env file, and
      reloads systemd. The tasks, uploads and data folders are kept. Not run as root, it uses
      sudo for these steps.
    `,
    examples: [
      ["Remove the service sdci", "$0 uninstall"],
      ["Show what it would remove", "$0 uninstall --service-name sdci-staging --dry-run"],
    ],
  });

  serviceName = Option.String("--service-name", "sdci", { description: "Name of the unit and of its env file" });
  dryRun = Option.Boolean("--dry-run", false, { description: "Show the commands; change nothing" });
  root = Option.String("--root", { description: "Work under this folder instead of / (tests, images); no sudo; systemctl only with --systemctl" });
  systemctl = Option.String("--systemctl", { description: "The systemctl program to run (default: systemctl on PATH)" });

  execute(): Promise<number> {
    return removeService(
      { serviceName: this.serviceName, dryRun: this.dryRun, root: this.root, systemctl: this.systemctl },
      currentHost(this.context),
    );
  }
}
