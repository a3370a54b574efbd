import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { type OperationLock, StoppingError } from "../runner/operation-lock.js";
import { parseAssetPath } from "./asset-path.js";
import { tooLarge } from "./body-meter.js";
import { parseContentDigest } from "./content-digest.js";
import { checkDestination, prepareDestination } from "./destination.js";
import { receiveFile, type UploadLimits } from "./receive-file.js";
import { receiveFolder } from "./receive-folder.js";
import type { DrainBounds } from "./refused-body.js";
import { UploadError } from "./upload-error.js";

export interface UploadRequest {
  /** The request path after `/v1/assets/`, still percent-encoded as it came. */
  rawPath: string;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  /** Lets the client send its body (`100 Continue`); called only once every check has passed. */
  accept(): void;
}

export interface UploadResult {
  /** Where the asset landed, relative to the uploads folder. */
  path: string;
  /** Bytes received: the file's size, or the tar stream's for a folder. */
  size: number;
  /** Hex SHA-256 of the bytes received. */
  sha256: string;
}

export interface AssetUploadsOptions extends UploadLimits {
  uploadsDir: string;
  lock: OperationLock;
  /** A body that sends nothing for this long is dropped, and the upload with it (0: never). */
  idleTimeoutMs: number;
  /** How much of a body refused while it arrives is still read (and dropped) after the answer. */
  refusedBodyDrain: DrainBounds;
}

/**
 * Receives uploads into the uploads folder under the global lock. Everything that can be
 * refused without the body (type, path, length, digest syntax, an existing destination, the
 * lock) is refused before a byte of it is read.
 */
export class AssetUploads {
  readonly #stopping = new AbortController();

  constructor(readonly options: AssetUploadsOptions) {}

  /**
   * Cuts every upload still arriving: each is answered 503 and leaves nothing behind. For a
   * stopping server, which would otherwise drop the connection under the client with no reason.
   * New uploads are refused by the closed lock.
   */
  stop(): void {
    this.#stopping.abort(
      new UploadError("stopping", "the server is stopping, so the upload was cut short and nothing was kept; send it again once it is back"),
    );
  }

  async receive(request: UploadRequest): Promise<UploadResult> {
    const { uploadsDir, maxBytes, lock } = this.options;
    const kind = bodyKind(request.headers["content-type"]);
    const segments = parseAssetPath(request.rawPath);
    const length = declaredLength(request.headers, maxBytes);
    const sha256 = parseContentDigest(request.headers["content-digest"] as string | undefined);
    await checkDestination(uploadsDir, segments);
    const release = acquire(lock, segments.join("/"));
    if (!release) throw new UploadError("busy", "the server is busy with another run or upload");
    try {
      const destination = await prepareDestination(uploadsDir, segments);
      try {
        // The server has no whole-request deadline (an upload may take hours), so a peer that
        // vanished without closing would otherwise hold the lock until TCP gave up on it.
        request.body.setTimeout(this.options.idleTimeoutMs);
        // Once the body is in, the fsync of a large file may take long: that is no stall.
        request.body.once("end", () => request.body.setTimeout(0));
        request.accept();
        const receive = kind === "folder" ? receiveFolder : receiveFile;
        const received = await receive(request.body, destination, { length, sha256 }, { ...this.options, stop: this.#stopping.signal });
        return { path: destination.relative, size: received.size, sha256: received.sha256.toString("hex") };
      } catch (error) {
        await destination.discardCreatedFolders();
        throw error;
      }
    } finally {
      release();
    }
  }
}

function acquire(lock: OperationLock, id: string): (() => void) | null {
  try {
    return lock.tryAcquire({ kind: "upload", id });
  } catch (error) {
    if (error instanceof StoppingError) throw new UploadError("stopping", error.message);
    throw error;
  }
}

/** A tar body is a folder; a raw body (or one with no type, as `curl -T` sends it) is a file. */
function bodyKind(contentType: string | undefined): "file" | "folder" {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase();
  if (type === "" || type === "application/octet-stream") return "file";
  if (type === "application/x-tar") return "folder";
  throw new UploadError(
    "unsupported-media-type",
    "send a file as application/octet-stream or a folder as application/x-tar",
  );
}

/** Content-Length when the body has one; a chunked body is measured as it streams. */
function declaredLength(headers: IncomingHttpHeaders, maxBytes: number): number | undefined {
  if (headers["transfer-encoding"] !== undefined) return undefined;
  if (headers["content-length"] === undefined) {
    throw new UploadError("length-required", "send Content-Length, or the body with chunked Transfer-Encoding");
  }
  const length = Number(headers["content-length"]);
  if (length > maxBytes) throw tooLarge(maxBytes);
  return length;
}
