import { access } from "node:fs/promises";
import { type ServiceRequest, type SystemdHost, prepareRunner } from "./service-host.js";
import { environmentFilePath, unitFilePath } from "./service-unit.js";
import { parseServiceName } from "./setup-options.js";
import type { Step } from "./steps.js";
import { unitInTheWay, unitInTheWayMessage } from "./unit-ownership.js";

/**
 * `sdci-server uninstall`: stops and disables the service, removes its unit and its env file.
 * The tasks, uploads and data folders stay: they are the user's. Returns the exit code.
 */
export async function removeService(request: ServiceRequest, host: SystemdHost): Promise<number> {
  try {
    const runner = prepareRunner(request, host);
    const serviceName = parseServiceName(request.serviceName);
    const unitName = `${serviceName}.service`;
    const inTheWay = await unitInTheWay(serviceName, (path) => runner.hostPath(path));
    if (inTheWay) throw new Error(unitInTheWayMessage(serviceName, inTheWay, "nothing removed"));
    const exists = (path: string) => access(runner.hostPath(path)).then(() => true, () => false);
    const hasUnit = await exists(unitFilePath(serviceName));
    const hasEnvironmentFile = await exists(environmentFilePath(serviceName));
    if (!hasUnit && !hasEnvironmentFile) {
      host.stdout.write(`sdci-server: no service ${serviceName} is installed (no ${runner.hostPath(unitFilePath(serviceName))}): nothing to do\n`);
      return 0;
    }
    const stop: Step[] = hasUnit ? [{ kind: "systemctl", args: ["disable", "--now", unitName] }] : [];
    const reload: Step[] = hasUnit ? [{ kind: "systemctl", args: ["daemon-reload"] }] : [];
    const steps: Step[] = [
      ...stop,
      { kind: "remove", path: unitFilePath(serviceName) },
      { kind: "remove", path: environmentFilePath(serviceName) },
      ...reload,
    ];
    if (request.dryRun) {
      host.stdout.write("Dry run: nothing is removed, nothing is stopped.\n--- commands\n");
      for (const step of steps) host.stdout.write(`${runner.describe(step)}\n`);
      return 0;
    }
    await runner.run(steps);
    host.stdout.write(`sdci-server: the service ${serviceName} is removed; its tasks, uploads and data folders are kept\n`);
    return 0;
  } catch (error) {
    host.stderr.write(`sdci-server: ${(error as Error).message}\n`);
    return 1;
  }
}
