import { constants } from "node:fs";
import { lstat, mkdir, open, rename, rm, writeFile } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { type Header, extract as createExtract } from "tar-stream";
import { parseEntryName, printable } from "./asset-path.js";
import { type Destination, takenMeanwhile } from "./destination.js";
import type { ReceivedAsset, ReceiveOptions } from "./receive-file.js";
import { type DeclaredBody, meterBody, verifyBody } from "./request-body.js";
import { storageError, syncFolder, tempPathIn } from "./staging.js";
import { UploadError } from "./upload-error.js";

const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Receives a tar body as a folder: extracts it into a temp folder beside the destination,
 * verifies the body, fsyncs what it wrote, then renames the finished folder into place.
 * Only plain files and folders are accepted (no links, devices or fifos), so nothing inside
 * the temp folder can ever lead outside it. All or nothing: on any failure the temp folder
 * is removed and the destination never appears.
 */
export async function receiveFolder(
  body: IncomingMessage,
  destination: Destination,
  declared: DeclaredBody,
  limits: ReceiveOptions,
): Promise<ReceivedAsset> {
  const temp = tempPathIn(destination.folder);
  try {
    await mkdir(temp, { mode: 0o755 });
    const meter = meterBody(body, limits.maxBytes, limits.stop);
    const folders = await unpack(meter, temp, limits.maxEntries);
    const sha256 = verifyBody(body, meter, declared);
    for (const folder of folders) await syncFolder(folder);
    // rename() would silently replace an empty folder, so look once more right before it.
    if (await lstat(destination.path).catch(() => undefined)) throw takenMeanwhile(destination);
    await rename(temp, destination.path).catch((error: NodeJS.ErrnoException) => {
      if (!["EEXIST", "ENOTEMPTY", "ENOTDIR", "EISDIR"].includes(error.code ?? "")) throw error;
      throw takenMeanwhile(destination);
    });
    await syncFolder(destination.folder);
    return { size: meter.bytes, sha256 };
  } catch (error) {
    await rm(temp, { recursive: true, force: true }).catch(() => {});
    throw storageError(error);
  }
}

/**
 * Extracts a tar stream into `root`, entry by entry as it arrives. The first failure (the
 * body, the archive's format, or a refused entry) stops everything and is the one thrown.
 * Returns every folder it made, for the caller to fsync.
 */
async function unpack(source: Readable, root: string, maxEntries: number): Promise<Set<string>> {
  const extract = createExtract();
  const folders = new Set([root]);
  let entries = 0;
  let failure: unknown;
  const fail = (error: unknown) => {
    failure ??= error;
    source.unpipe(extract);
    source.destroy();
    // With an error: tar-stream's iterator, asked for the next entry after a quiet destroy,
    // would wait forever (and hold the lock with it); an error makes it reject at once.
    extract.destroy(new Error("the upload was stopped"));
  };
  const end = new EndMarkerWatch();
  source.on("data", end.see);
  source.once("error", fail);
  extract.on("error", (error: Error) => fail(new UploadError("invalid-request", `not a valid tar archive: ${error.message}`)));
  source.pipe(extract as unknown as NodeJS.WritableStream);
  try {
    for await (const entry of extract) {
      if (failure) break;
      entries += 1;
      if (entries > maxEntries) {
        throw new UploadError("invalid-request", `the archive has more than ${maxEntries} entries (the server's --max-upload-entries)`);
      }
      await writeEntry(entry as AsyncIterable<Buffer>, entry.header, root, folders);
    }
  } catch (error) {
    fail(error);
  }
  if (failure) throw failure;
  // tar-stream takes an archive cut between two entries as whole; a packer that died there
  // would publish part of a release. Only the marker tells a whole archive from such a cut.
  if (!end.seen) {
    throw new UploadError("invalid-request", "the archive ends without its end-of-archive marker (two blocks of zeros): it was cut short");
  }
  return folders;
}

/** Watches a tar stream for the end-of-archive marker: its last 1,024 bytes are zeros. */
class EndMarkerWatch {
  #tail = Buffer.alloc(0);

  readonly see = (chunk: Buffer): void => {
    this.#tail =
      chunk.length >= END_MARKER_BYTES
        ? Buffer.from(chunk.subarray(chunk.length - END_MARKER_BYTES))
        : Buffer.concat([this.#tail, chunk]).subarray(-END_MARKER_BYTES);
  };

  /**
   * Asked once every entry was read whole, so these zeros follow the last entry, where
   * tar-stream reads them as empty headers. (One cut would still pass: right after a file
   * whose content ends in 1,024 zero bytes on a block boundary.)
   */
  get seen(): boolean {
    return this.#tail.length === END_MARKER_BYTES && this.#tail.every((byte) => byte === 0);
  }
}

const END_MARKER_BYTES = 1024;

async function writeEntry(data: AsyncIterable<Buffer>, header: Header, root: string, folders: Set<string>): Promise<void> {
  const parts = parseEntryName(header.name);
  if (header.type === "directory") {
    await makeFolders(root, parts, folders, header.name);
    return;
  }
  if (header.type !== "file" && header.type !== "contiguous-file") {
    throw new UploadError("invalid-request", `archive entry '${header.name}' is a ${header.type}: only files and folders are accepted`);
  }
  if (parts.length === 0) throw new UploadError("invalid-request", "an archive entry for a file has no name");
  // tar-stream reads a garbled time field as an Invalid Date, which utimes() rejects (EINVAL).
  if (Number.isNaN(header.mtime?.getTime() ?? Number.NaN)) {
    throw new UploadError("invalid-request", `archive entry '${printable(header.name)}' refused: its modification time is not a number`);
  }
  await makeFolders(root, parts.slice(0, -1), folders, header.name);
  const mode = header.mode & 0o111 ? 0o755 : 0o644;
  const file = await open(join(root, ...parts), NEW_FILE, mode).catch((error: NodeJS.ErrnoException) => {
    throw conflict(error, header.name);
  });
  try {
    await writeFile(file, data);
    await file.utimes(header.mtime, header.mtime);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** Creates each folder of `parts` under `root`; no link can exist there, so recursion is safe. */
async function makeFolders(root: string, parts: string[], folders: Set<string>, name: string): Promise<void> {
  for (let depth = 1; depth <= parts.length; depth++) {
    const folder = join(root, ...parts.slice(0, depth));
    if (folders.has(folder)) continue;
    await mkdir(folder, { mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
      throw conflict(error, name);
    });
    folders.add(folder);
  }
}

/**
 * A name that clashes with an earlier entry (a file twice, a file where a folder is): refused,
 * never merged. So is one that the limits on names let through but that is too long for the
 * file system once below the temp folder (PATH_MAX counts the whole path): the client's, not a 500.
 */
function conflict(error: NodeJS.ErrnoException, name: string): unknown {
  if (error.code === "EEXIST" || error.code === "ENOTDIR" || error.code === "EISDIR") {
    return new UploadError("invalid-request", `archive entry '${printable(name)}' clashes with an earlier entry`);
  }
  if (error.code === "ENAMETOOLONG") {
    return new UploadError("invalid-request", `archive entry '${printable(name)}' refused: its path is too long for the server's file system`);
  }
  return error;
}
