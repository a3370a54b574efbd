import { readFile } from "node:fs/promises";
import { WRITTEN_BY_SETUP } from "./service-unit.js";

/**
 * Where systemd loads system units from, the admin's first (systemd.unit(5)). A unit of the
 * same name in any of them is a service that already exists on the host.
 */
const UNIT_FOLDERS = ["/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"];

/**
 * The first unit named `<serviceName>.service` that `sdci-server setup` did not write, as a
 * host path, or undefined. Setup must not take such a service over (a package's dbus, the
 * admin's nginx), nor uninstall stop and delete it.
 */
export async function foreignUnit(serviceName: string, hostPath: (path: string) => string): Promise<string | undefined> {
  for (const folder of UNIT_FOLDERS) {
    const path = hostPath(`${folder}/${serviceName}.service`);
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text !== undefined && !text.startsWith(WRITTEN_BY_SETUP)) return path;
  }
  return undefined;
}
