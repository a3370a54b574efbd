import { createReadStream } from "node:fs";
import { lstat, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pack as createPack, type Pack } from "tar-stream";
import { CliError, readFailure } from "./cli-error.js";

export interface FolderEntry {
  /** Path inside the folder, with `/` separators. */
  name: string;
  type: "file" | "directory";
  size: number;
  mode: number;
  mtime: Date;
}

/** Reads names as UTF-8 and refuses, rather than replaces, bytes that are not. */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Every file and folder under `root`, parents before children, names sorted so the same
 * folder always packs to the same archive. The server accepts only plain files and folders,
 * so a link, socket or device is refused here, before anything is sent; so is a name that is
 * not UTF-8, which a tar header could not carry as it is on disk.
 */
export async function listFolder(root: string): Promise<FolderEntry[]> {
  const entries: FolderEntry[] = [];
  const visit = async (relative: string): Promise<void> => {
    // As bytes: a string would have turned an undecodable name into another, missing, one.
    const listed = await readdir(join(root, relative), { encoding: "buffer" }).catch((error: unknown) => {
      throw new CliError(`cannot read ${relative ? `'${relative}' in the folder` : "the folder"}: ${readFailure(error)}`);
    });
    const names = listed.map((bytes) => nameOf(bytes, relative));
    names.sort();
    for (const name of names) {
      const entryName = relative ? `${relative}/${name}` : name;
      const info = await lstat(join(root, entryName)).catch((error: unknown) => {
        throw new CliError(`cannot read '${entryName}' in the folder: ${readFailure(error)}`);
      });
      const common = { name: entryName, mode: info.mode & 0o777, mtime: info.mtime };
      if (info.isDirectory()) {
        entries.push({ ...common, type: "directory", size: 0 });
        await visit(entryName);
      } else if (info.isFile()) {
        entries.push({ ...common, type: "file", size: info.size });
      } else {
        const kind = info.isSymbolicLink() ? "a symbolic link" : "not a regular file or folder";
        throw new CliError(`'${entryName}' in the folder is ${kind}: only plain files and folders can be uploaded`);
      }
    }
  };
  await visit("");
  return entries;
}

function nameOf(bytes: Buffer, relative: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    const shown = `${relative ? `${relative}/` : ""}${bytes.toString("utf8")}`;
    throw new CliError(`'${shown}' in the folder: the name is not valid UTF-8; rename it before uploading`);
  }
}

/**
 * The folder as a tar stream, read from disk as the stream is consumed (one file at a time,
 * so memory stays flat). `onFileBytes` is told of each chunk of file content packed.
 */
export function packFolder(root: string, entries: FolderEntry[], onFileBytes: (bytes: number) => void): Readable {
  const pack = createPack();
  (async () => {
    for (const entry of entries) await packEntry(pack, root, entry, onFileBytes);
    pack.finalize();
  })().catch((error: unknown) => pack.destroy(error as Error));
  return Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
}

function packEntry(pack: Pack, root: string, entry: FolderEntry, onFileBytes: (bytes: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const header = { name: entry.name, type: entry.type, size: entry.size, mode: entry.mode, mtime: entry.mtime };
    const path = join(root, entry.name);
    let unreadable: CliError | undefined;
    const sink = pack.entry(header, (error) => {
      if (unreadable) reject(unreadable);
      else if (error) reject(new CliError(`'${entry.name}' changed while it was being sent (${error.message}); nothing was kept`));
      else if (entry.type === "directory") resolve();
      else void sameSize(path, entry).then(resolve, reject);
    });
    // The entry's callback above reports a failed entry; without a listener of its own, the
    // sink's 'error' would be rethrown by pipe() as an uncaught exception with a stack trace.
    sink.on("error", () => {});
    if (entry.type === "directory") return;
    if (entry.size === 0) {
      sink.end(undefined);
      return;
    }
    // Exactly the size announced in the header: a file that shrinks fails the entry, one that grows
    // fails sameSize(); either way before the archive ends, so the server keeps nothing.
    const file = createReadStream(path, { start: 0, end: entry.size - 1 });
    file.on("data", (chunk) => onFileBytes(chunk.length));
    // Listed, but gone or unreadable by the time it is packed (removed meanwhile, no permission).
    file.on("error", (error) => {
      unreadable = new CliError(`cannot read '${entry.name}' in the folder: ${readFailure(error)}; nothing was kept`);
      sink.destroy(unreadable);
    });
    file.pipe(sink as unknown as NodeJS.WritableStream);
  });
}

/** Rejects when the file's size is no longer the one its tar header announced: it grew while it was read. */
async function sameSize(path: string, entry: FolderEntry): Promise<void> {
  const now = await stat(path).catch(() => undefined);
  if (now?.size !== entry.size) throw new CliError(`'${entry.name}' changed while it was being sent; nothing was kept`);
}
