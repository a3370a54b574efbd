import { lstat, readFile, readlink } from "node:fs/promises";
import { WRITTEN_BY_SETUP } from "./service-unit.js";

/**
 * Where systemd loads system units from, in its order (systemd.unit(5)): the first unit of a
 * name found there is the one systemd runs.
 */
const UNIT_FOLDERS = [
  "/etc/systemd/system.control",
  "/run/systemd/system.control",
  "/run/systemd/transient",
  "/run/systemd/generator.early",
  "/etc/systemd/system",
  "/etc/systemd/system.attached",
  "/run/systemd/system",
  "/run/systemd/system.attached",
  // Where systemd-sysv-generator puts a unit for an /etc/init.d script of the same name.
  "/run/systemd/generator",
  "/usr/local/lib/systemd/system",
  "/usr/lib/systemd/system",
  "/lib/systemd/system",
  "/run/systemd/generator.late",
];

/** A unit of the service's name that setup must leave alone, and why. */
export interface UnitInTheWay {
  /** As a host path. */
  path: string;
  why: "not-ours" | "masked" | "unreadable";
}

/**
 * The unit systemd would run for `<serviceName>.service`, when it is not one `sdci-server
 * setup` wrote: a package's dbus, an admin's nginx, a masked name, or a file this process may
 * not read to tell. Setup must not take such a service over, nor uninstall stop and delete it.
 */
export async function unitInTheWay(serviceName: string, hostPath: (path: string) => string): Promise<UnitInTheWay | undefined> {
  for (const folder of UNIT_FOLDERS) {
    const path = hostPath(`${folder}/${serviceName}.service`);
    const info = await lstat(path).catch(() => undefined);
    if (!info) continue;
    if (info.isSymbolicLink() && (await readlink(path).catch(() => "")) === "/dev/null") return { path, why: "masked" };
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text === undefined) return { path, why: "unreadable" };
    if (text === "") return { path, why: "masked" };
    return text.startsWith(WRITTEN_BY_SETUP) ? undefined : { path, why: "not-ours" };
  }
  return undefined;
}

/** One line about a unit in the way, for `verb` ("installed", "removed"). */
export function unitInTheWayMessage(serviceName: string, unit: UnitInTheWay, outcome: string): string {
  const name = `${serviceName}.service`;
  switch (unit.why) {
    case "masked":
      return `${name} is masked (${unit.path}): unmask it first (systemctl unmask ${name}); ${outcome}`;
    case "unreadable":
      return `${name} exists (${unit.path}) but cannot be read to tell whether sdci-server setup wrote it (run this as root); ${outcome}`;
    case "not-ours":
      return `${name} is already installed (${unit.path}) and was not written by sdci-server setup; ${outcome}`;
  }
}
