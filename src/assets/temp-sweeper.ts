import { readdir, rm, rmdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { TEMP_PREFIX } from "./asset-path.js";

/**
 * Removes what uploads cut short by a crash left behind: every `.sdci-upload-*` file or
 * folder anywhere under the uploads folder, then each folder that removal leaves empty, up to
 * the uploads folder itself. Those are the folders the upload made for its destination: an
 * empty `releases/v2` left in place would look like a release to a deploy task, and would
 * make the next upload of `releases/v2` a 409. No upload may take a name with that prefix, so
 * nothing else is touched (a folder that was empty before the upload began goes too: nothing
 * tells them apart). Links are not followed. Returns how many leftovers were removed.
 */
export async function sweepTempLeftovers(uploadsDir: string): Promise<number> {
  const holders = new Set<string>();
  let removed = 0;
  const pending = [uploadsDir];
  for (let folder = pending.pop(); folder !== undefined; folder = pending.pop()) {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.name.startsWith(TEMP_PREFIX)) {
        await rm(path, { recursive: true, force: true });
        removed += 1;
        holders.add(folder);
      } else if (entry.isDirectory()) {
        pending.push(path);
      }
    }
  }
  for (const holder of holders) await removeEmptyUpTo(uploadsDir, holder);
  return removed;
}

/** Removes `folder` and then each parent below `root` for as long as they are empty. */
async function removeEmptyUpTo(root: string, folder: string): Promise<void> {
  for (let current = folder; current !== root && current.startsWith(root); current = dirname(current)) {
    // rmdir fails on a folder that holds anything: that is the check, with no race against a reader.
    if (!(await rmdir(current).then(() => true, () => false))) return;
  }
}
