import { randomBytes } from "node:crypto";
import { chmod, chown, constants, mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";

/**
 * Writes `content` to `path` so that no reader ever sees a partial file and the bytes are
 * never readable beyond `mode`: a new temp file is created (O_EXCL, so never someone else's
 * file or link) with at most `mode`, set to exactly `mode` before the first byte whatever
 * the umask, synced, then renamed over `path`. The owner is whoever runs this (root for /etc).
 */
export async function writeFileAtomically(path: string, content: string, mode: number): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    try {
      await handle.chmod(mode);
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncFolder(dirname(path));
}

/** Makes the rename itself durable: a crash right after setup keeps the new file. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates `path` and its missing parents, and sets each created folder's mode whatever the
 * umask: `path` itself 0700 and, like any parent inside `home`, handed to `owner` when one is
 * given; a parent elsewhere (a missing /srv) 0755 and left to whoever runs this (root), since
 * other programs on the host use it too. Folders that existed are not touched.
 */
export async function ensureFolder(path: string, owner?: { uid: number; gid: number }, home?: string): Promise<void> {
  const firstCreated = await mkdir(path, { recursive: true, mode: 0o700 });
  if (firstCreated === undefined) return;
  // A passwd entry may end its home in "/": compare normalized paths.
  const ownHome = home === undefined ? undefined : resolve(home);
  for (let folder = path; ; folder = dirname(folder)) {
    const theirs = folder === path || (ownHome !== undefined && (folder === ownHome || folder.startsWith(ownHome + sep)));
    await chmod(folder, theirs ? 0o700 : 0o755);
    if (theirs && owner !== undefined) await chown(folder, owner.uid, owner.gid);
    if (folder === firstCreated || folder === dirname(folder)) break;
  }
}

/** Creates a system folder (/etc/sdci) and its missing parents, each 0755 whatever the umask. */
export async function ensureSystemFolder(path: string): Promise<void> {
  const firstCreated = await mkdir(path, { recursive: true, mode: 0o755 });
  if (firstCreated === undefined) return;
  for (let folder = path; ; folder = dirname(folder)) {
    await chmod(folder, 0o755);
    if (folder === firstCreated || folder === dirname(folder)) break;
  }
}
