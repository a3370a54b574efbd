import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { TEMP_PREFIX } from "./asset-path.js";

/**
 * Removes what uploads cut short by a crash left behind: every `.sdci-upload-*` file or
 * folder anywhere under the uploads folder. No upload may take a name with that prefix, so
 * nothing else is touched; links are not followed. Returns how many were removed.
 */
export async function sweepTempLeftovers(uploadsDir: string): Promise<number> {
  let removed = 0;
  const pending = [uploadsDir];
  for (let folder = pending.pop(); folder !== undefined; folder = pending.pop()) {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.name.startsWith(TEMP_PREFIX)) {
        await rm(path, { recursive: true, force: true });
        removed += 1;
      } else if (entry.isDirectory()) {
        pending.push(path);
      }
    }
  }
  return removed;
}
