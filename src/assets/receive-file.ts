import { createWriteStream } from "node:fs";
import { link, unlink } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { pipeline } from "node:stream/promises";
import { type Destination, takenMeanwhile } from "./destination.js";
import { type DeclaredBody, meterBody, verifyBody } from "./request-body.js";
import { storageError, syncFolder, tempPathIn } from "./staging.js";

/**
 * Bytes the temp file's stream buffers while a write is in flight. Node's 16 KiB default
 * sends each socket read to the thread pool on its own; a larger buffer lets the next write
 * take everything that arrived meanwhile in one writev, which halved the CPU an upload costs
 * and doubled its speed (bench/upload.ts). Memory per upload stays bounded by it.
 */
const WRITE_BUFFER_BYTES = 1024 * 1024;

export interface UploadLimits {
  /** Largest body, in bytes. */
  maxBytes: number;
  /** Most entries in a folder's archive. */
  maxEntries: number;
}

export interface ReceiveOptions extends UploadLimits {
  /** Aborted when the server stops: the body is cut off with the signal's reason. */
  stop?: AbortSignal;
}

export interface ReceivedAsset {
  size: number;
  sha256: Buffer;
}

/**
 * Streams a request body into a temp file beside the destination, verifies it, fsyncs it and
 * publishes it with `link()`, which fails on an existing name where `rename()` would replace
 * it. Whatever happens, the temp file is gone afterwards and the destination holds either
 * exactly the verified bytes or nothing.
 */
export async function receiveFile(
  body: IncomingMessage,
  destination: Destination,
  declared: DeclaredBody,
  { maxBytes, stop }: ReceiveOptions,
): Promise<ReceivedAsset> {
  const temp = tempPathIn(destination.folder);
  try {
    const meter = meterBody(body, maxBytes, stop);
    await pipeline(meter, createWriteStream(temp, { flags: "wx", mode: 0o644, flush: true, highWaterMark: WRITE_BUFFER_BYTES }));
    const sha256 = verifyBody(body, meter, declared);
    await link(temp, destination.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
      throw takenMeanwhile(destination);
    });
    await unlink(temp);
    await syncFolder(destination.folder);
    return { size: meter.bytes, sha256 };
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw storageError(error);
  }
}
