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

/** A full disk is the server's condition, not the client's mistake: 507, with nothing kept. */
export function storageError(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOSPC" || code === "EDQUOT" || code === "EFBIG") {
    return new UploadError("insufficient-storage", "the server has no room for this upload (its disk is full); nothing was kept");
  }
  return error;
}
