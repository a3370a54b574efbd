import { lstat, mkdir, realpath, rmdir, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { UploadError } from "./upload-error.js";

/** Where one upload lands, checked and with its parent folders in place. */
export interface Destination {
  /** The path under the uploads folder, as the client named it. */
  relative: string;
  /** The real folder the asset lands in (inside the uploads folder). */
  folder: string;
  /** The final name inside `folder`. */
  name: string;
  /** `folder/name`. */
  path: string;
  /** Removes the parent folders this upload created, where they are still empty. */
  discardCreatedFolders(): Promise<void>;
}

/**
 * Refuses a destination without changing anything: a parent that is a file or a link leading
 * out of the uploads folder, or an existing destination. Safe to run before the lock is
 * taken, so a client learns that a name is taken (for good) rather than that the server is
 * busy (for now); `prepareDestination` checks again under the lock.
 */
export async function checkDestination(uploadsDir: string, segments: string[]): Promise<void> {
  const root = await uploadsRoot(uploadsDir);
  const folder = await walkParents(root, segments, undefined);
  if (folder !== undefined) await refuseExisting(join(folder, segments[segments.length - 1] as string), segments);
}

/**
 * Resolves a destination under the uploads folder: each existing parent is followed through
 * its real path and must stay inside the folder (a symlink that leads out is refused, never
 * followed), missing parents are created, and an existing destination of any kind is a 409.
 * Runs under the global lock, so no task can swap a parent between this check and the write.
 */
export async function prepareDestination(uploadsDir: string, segments: string[]): Promise<Destination> {
  const root = await uploadsRoot(uploadsDir);
  const created: string[] = [];
  const discardCreatedFolders = async () => {
    for (const folder of created.reverse()) await rmdir(folder).catch(() => {});
    created.length = 0;
  };
  try {
    const folder = (await walkParents(root, segments, created)) as string;
    const name = segments[segments.length - 1] as string;
    const path = join(folder, name);
    await refuseExisting(path, segments);
    return { relative: segments.join("/"), folder, name, path, discardCreatedFolders };
  } catch (error) {
    await discardCreatedFolders();
    throw error;
  }
}

/**
 * The uploads folder's real path. The server makes it at start; a task (or a person) that
 * removes it later would otherwise turn every upload into a 500 until the next restart.
 */
async function uploadsRoot(uploadsDir: string): Promise<string> {
  await mkdir(uploadsDir, { recursive: true });
  return realpath(uploadsDir);
}

/**
 * The real folder that holds the destination. Missing parents are made (and listed in
 * `created`) when `created` is given; otherwise the walk stops at the first missing one and
 * returns undefined, since nothing below it can exist.
 */
async function walkParents(root: string, segments: string[], created: string[] | undefined): Promise<string | undefined> {
  let folder = root;
  for (const [index, segment] of segments.slice(0, -1).entries()) {
    const shown = segments.slice(0, index + 1).join("/");
    const next = join(folder, segment);
    const info = await lstat(next).catch(ignoreMissing);
    if (!info) {
      if (!created) return undefined;
      await mkdir(next);
      created.push(next);
      folder = next;
    } else if (info.isDirectory()) {
      folder = next;
    } else if (info.isSymbolicLink()) {
      folder = await followInside(root, next, shown);
    } else {
      throw new UploadError("asset-exists", `'${shown}' exists on the server and is not a folder`);
    }
  }
  return folder;
}

async function refuseExisting(path: string, segments: string[]): Promise<void> {
  if (await lstat(path).catch(ignoreMissing)) {
    throw new UploadError("asset-exists", `'${segments.join("/")}' already exists on the server; uploads never replace anything`);
  }
}

/** The 409 for a destination that someone else created while the body was arriving. */
export function takenMeanwhile(destination: Destination): UploadError {
  return new UploadError("asset-exists", `'${destination.relative}' was created by someone else during the upload and was left as it is`);
}

/** The real folder a symlinked parent leads to, if it is a folder inside `root`. */
async function followInside(root: string, link: string, shown: string): Promise<string> {
  const target = await realpath(link).catch(() => undefined);
  if (!target || (target !== root && !target.startsWith(root + sep))) {
    throw new UploadError("invalid-request", `'${shown}' is a link that leads outside the uploads folder`);
  }
  if (!(await stat(target)).isDirectory()) {
    throw new UploadError("asset-exists", `'${shown}' exists on the server and is not a folder`);
  }
  return target;
}

function ignoreMissing(error: NodeJS.ErrnoException): undefined {
  if (error.code === "ENOENT") return undefined;
  throw error;
}
