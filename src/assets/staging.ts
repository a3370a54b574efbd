import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { TEMP_PREFIX } from "./asset-path.js";
import { UploadError } from "./upload-error.js";

/** A fresh name for work in progress beside the destination (same filesystem, so link and rename work). */
export function tempPathIn(folder: string): string {
  return join(folder, `${TEMP_PREFIX}${randomBytes(9).toString("base64url")}`);
}

/** Makes a folder's entries (a new name, a removed one) durable. */
export async function syncFolder(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * What the file system did to an upload in progress, told as the client's answer rather than
 * a 500: a full disk (507), or the destination's folder removed by another program on the
 * host while the body arrived (409; the staging file or folder went with it). Nothing is kept.
 */
export function storageError(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOSPC" || code === "EDQUOT" || code === "EFBIG") {
    return new UploadError("insufficient-storage", "the server has no room for this upload (its disk is full); nothing was kept");
  }
  if (code === "ENOENT") {
    return new UploadError("conflict", "the destination's folder was removed while the upload arrived; nothing was kept, send it again");
  }
  return error;
}
