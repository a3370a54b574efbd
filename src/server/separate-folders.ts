import { realpath } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative } from "node:path";
import { StartupError } from "./startup-error.js";

/**
 * Where a path leads once the symlinks of its existing part are followed: the folder itself,
 * or where it will be created. Nothing is created to find out. A part this process may not
 * look into (setup run by an admin for another user's 0750 home) is taken as written.
 */
async function whereItLeads(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code !== "ENOENT" && code !== "EACCES") || dirname(path) === path) throw error;
    return join(await whereItLeads(dirname(path)), basename(path));
  }
}

/**
 * Refuses folders (by option name, absolute paths) of which one is, or is inside, another. With
 * the tasks folder inside the uploads folder anyone holding the token could upload a script
 * and run it as a task; an upload could also overwrite a run's records, or a run's records a
 * task. Checked before any of them is created.
 */
export async function requireSeparateFolders(folders: Record<string, string>): Promise<void> {
  const real = await Promise.all(Object.entries(folders).map(async ([option, path]) => ({ option, path: await whereItLeads(path) })));
  for (const outer of real) {
    for (const inner of real) {
      if (inner === outer) continue;
      const path = relative(outer.path, inner.path);
      const same = path === "";
      if (!same && (path.startsWith("..") || isAbsolute(path))) continue;
      // Reported once for a shared folder: the later option is the one said to be the same.
      if (same && real.indexOf(inner) < real.indexOf(outer)) continue;
      const how = same ? "is the same folder as" : "is inside";
      throw new StartupError(
        `${inner.option} ${inner.path} ${how} ${outer.option} ${outer.path}: the tasks, uploads and data folders must be apart, or an upload could become a task`,
      );
    }
  }
}
