import { createHash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { UploadError } from "./upload-error.js";

/**
 * Passes a request body through while counting and hashing it, and fails the stream as soon
 * as it grows past the limit, so an oversized body is cut off instead of filling the disk.
 */
export class BodyMeter extends Transform {
  #bytes = 0;
  readonly #hash = createHash("sha256");

  constructor(readonly maxBytes: number) {
    // Room for many socket reads, so the request is not paused and resumed for every one.
    super({ highWaterMark: 1024 * 1024 });
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The SHA-256 of everything that passed; call once, after the stream has ended. */
  digest(): Buffer {
    return this.#hash.digest();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.maxBytes) {
      callback(tooLarge(this.maxBytes));
      return;
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }
}

export function tooLarge(maxBytes: number): UploadError {
  return new UploadError("payload-too-large", `an upload may have at most ${maxBytes} bytes (the server's --max-upload-size)`);
}
