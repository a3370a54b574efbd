import { open } from "node:fs/promises";

/**
 * Whether a token can travel as `Authorization: Bearer <token>`: one word of visible ASCII.
 * The server refuses to start with any other (no client could send it), and the CLI to send one.
 */
export function isSendableToken(token: string): boolean {
  return /^[\x21-\x7e]+$/.test(token);
}

/** Longer than any token worth having; a file without a line end this soon is not a token file. */
const MAX_TOKEN_LINE_BYTES = 4096;

/**
 * The first line of a token file, without its line end and surrounding blanks ("" when it is
 * empty). Only that much is read: a huge file, or a device like /dev/zero, costs one small
 * read. Throws an Error whose message completes "the token file PATH ...".
 */
export async function readTokenLine(path: string): Promise<string> {
  const file = await open(path, "r").catch((error: NodeJS.ErrnoException) => {
    throw new Error(`cannot be read (${error.code ?? error.message})`);
  });
  try {
    const buffer = Buffer.alloc(MAX_TOKEN_LINE_BYTES + 1);
    let filled = 0;
    // A pipe (`<(pass show sdci)`) may give the line in pieces: read until its end, the file's
    // end or the limit, never taking a piece for the whole.
    while (filled < buffer.length && !buffer.subarray(0, filled).includes(0x0a)) {
      const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, null).catch((error: NodeJS.ErrnoException) => {
        throw new Error(`cannot be read (${error.code ?? error.message})`);
      });
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    const head = buffer.subarray(0, filled);
    const end = head.indexOf(0x0a);
    if (end < 0 && filled > MAX_TOKEN_LINE_BYTES) throw new Error(`has a first line longer than ${MAX_TOKEN_LINE_BYTES} bytes`);
    return head.subarray(0, end < 0 ? filled : end).toString("utf8").trim();
  } finally {
    await file.close();
  }
}
