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
    const { bytesRead } = await file.read(buffer, 0, buffer.length, null).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`cannot be read (${error.code ?? error.message})`);
    });
    const head = buffer.subarray(0, bytesRead);
    const end = head.indexOf(0x0a);
    if (end < 0 && bytesRead > MAX_TOKEN_LINE_BYTES) throw new Error(`has a first line longer than ${MAX_TOKEN_LINE_BYTES} bytes`);
    return head.subarray(0, end < 0 ? bytesRead : end).toString("utf8").trim();
  } finally {
    await file.close();
  }
}
