import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Transform, type TransformCallback } from "node:stream";

/** SHA-256 of the first `size` bytes of a file, read as a stream. */
export async function sha256OfFile(path: string, size: number): Promise<Buffer> {
  const hash = createHash("sha256");
  if (size > 0) {
    for await (const chunk of createReadStream(path, { start: 0, end: size - 1 })) hash.update(chunk as Buffer);
  }
  return hash.digest();
}

/**
 * Passes bytes through unchanged and shows each chunk to `onChunk` on the way (to count or
 * hash it). Unlike a `data` listener it sees only what is actually consumed downstream.
 */
export class TapStream extends Transform {
  constructor(private readonly onChunk: (chunk: Buffer) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.onChunk(chunk);
    callback(null, chunk);
  }
}

/**
 * Passes bytes through, but each chunk only once the next has come, and the last only once
 * `check` has passed at the end: a receiver that counts bytes (a Content-Length) never gets
 * the whole body unless `check` agrees. When `check` rejects, the stream fails with its error.
 */
export class CheckedEnd extends Transform {
  #held: Buffer | undefined;

  constructor(private readonly check: () => Promise<void>) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const previous = this.#held;
    this.#held = chunk;
    callback(null, previous);
  }

  override _flush(callback: TransformCallback): void {
    this.check().then(
      () => callback(null, this.#held),
      (error: Error) => callback(error),
    );
  }
}
