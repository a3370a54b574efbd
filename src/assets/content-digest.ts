import { parseDictionary } from "structured-headers";
import { UploadError } from "./upload-error.js";

const SHA256_BYTES = 32;

/**
 * The SHA-256 a client declared in `Content-Digest` (RFC 9530, a structured-field dictionary
 * such as `sha-256=:<base64>:`), or undefined when it declared none. Other algorithms are
 * allowed and not checked, as the RFC permits; a malformed field is the client's error.
 */
export function parseContentDigest(field: string | undefined): Buffer | undefined {
  if (field === undefined || field.trim() === "") return undefined;
  let dictionary;
  try {
    dictionary = parseDictionary(field);
  } catch {
    throw new UploadError("invalid-request", "Content-Digest is not an RFC 9530 dictionary such as sha-256=:<base64>:");
  }
  const member = dictionary.get("sha-256");
  if (member === undefined) return undefined;
  const [value] = member;
  if (!(value instanceof ArrayBuffer) || value.byteLength !== SHA256_BYTES) {
    throw new UploadError("invalid-request", "the sha-256 of Content-Digest must be a byte sequence of 32 bytes, as :<base64>:");
  }
  return Buffer.from(value);
}

/** The `Content-Digest` field for a SHA-256. */
export function formatContentDigest(sha256: Buffer): string {
  return `sha-256=:${sha256.toString("base64")}:`;
}
