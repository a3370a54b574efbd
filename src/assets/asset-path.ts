import { UploadError } from "./upload-error.js";

/**
 * Names that start with this are the server's own work in progress: no upload may use one,
 * so the sweep at start can remove every such name without touching anyone's files.
 */
export const TEMP_PREFIX = ".sdci-upload-";

/** Limits on a destination path: generous for a release layout, small enough to log and show. */
export const ASSET_PATH_LIMITS = { maxSegments: 32, maxLength: 1024, maxSegmentLength: 255 } as const;

/** Limits on the names inside a folder upload. */
export const ENTRY_NAME_LIMITS = { maxDepth: 64, maxLength: 4096, maxSegmentBytes: 255 } as const;

/**
 * One part of a destination: portable file-name characters only, so that no percent-encoded,
 * Unicode look-alike (fullwidth dots) or shell-hostile form (a leading `-` or `.`) gets through.
 */
const DESTINATION_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._+@=,~-]*$/;

/** C0 and C1 control characters and DEL: never part of a name the server writes. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The destination of an upload from the raw request path after `/v1/assets/`: decoded exactly
 * once (so `%2F` separates parts, as the generated client sends it, and `%252F` stays a
 * literal `%` that is then refused), split on `/`, and every part checked. Returns the parts.
 */
export function parseAssetPath(raw: string): string[] {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new UploadError("invalid-request", "the destination path is not valid percent-encoded UTF-8");
  }
  if (decoded === "") throw new UploadError("invalid-request", "the destination path is empty");
  const segments = decoded.split("/");
  const problem = destinationPathProblem(segments);
  if (problem) throw new UploadError("invalid-request", `bad destination path: ${problem}`);
  return segments;
}

/** Why a whole destination, as its parts, is refused, or undefined. The CLI asks before it reads a byte. */
export function destinationPathProblem(segments: string[]): string | undefined {
  if (segments.join("/").length > ASSET_PATH_LIMITS.maxLength) return `longer than ${ASSET_PATH_LIMITS.maxLength} characters`;
  if (segments.length > ASSET_PATH_LIMITS.maxSegments) return `more than ${ASSET_PATH_LIMITS.maxSegments} parts`;
  for (const segment of segments) {
    const problem = destinationNameProblem(segment);
    if (problem) return problem;
  }
  return undefined;
}

/** Why one part of a destination (a name the server would give a file or folder) is refused, or undefined. */
export function destinationNameProblem(segment: string): string | undefined {
  if (segment === "") return "empty part (a leading, trailing or doubled '/')";
  if (segment.length > ASSET_PATH_LIMITS.maxSegmentLength) {
    return `a part is longer than ${ASSET_PATH_LIMITS.maxSegmentLength} characters`;
  }
  if (!DESTINATION_SEGMENT.test(segment)) {
    return `'${printable(segment)}': each part may hold only letters, digits and '._+@=,~-', and starts with a letter, digit or '_'`;
  }
  return undefined;
}

/**
 * The path of an entry of a folder upload, relative to the folder, as its parts. Archive names
 * are what a packer wrote, not URLs: any printable character is kept, but absolute names, `.`,
 * `..` and empty parts, backslashes, control characters and over-deep or over-long names are
 * refused. A leading `./` (as `tar -C dir .` writes) is dropped; the entry `./` itself is the
 * folder and yields no parts.
 */
export function parseEntryName(name: string): string[] {
  const refuse = (why: string): never => {
    throw new UploadError("invalid-request", `archive entry '${printable(name)}' refused: ${why}`);
  };
  if (name.startsWith("/")) refuse("absolute name");
  const relative = name.replace(/^(?:\.\/)+/, "").replace(/\/$/, "");
  if (relative === "" || relative === ".") return [];
  if (Buffer.byteLength(relative) > ENTRY_NAME_LIMITS.maxLength) refuse(`longer than ${ENTRY_NAME_LIMITS.maxLength} bytes`);
  const segments = relative.split("/");
  if (segments.length > ENTRY_NAME_LIMITS.maxDepth) refuse(`nested deeper than ${ENTRY_NAME_LIMITS.maxDepth} levels`);
  for (const segment of segments) {
    if (segment === "" || segment === "." || segment === "..") refuse("'.', '..' or empty part");
    if (segment.includes("\\")) refuse("backslash");
    if (CONTROL.test(segment)) refuse("control character");
    if (segment.startsWith(TEMP_PREFIX)) refuse(`names starting with '${TEMP_PREFIX}' are reserved`);
    if (Buffer.byteLength(segment) > ENTRY_NAME_LIMITS.maxSegmentBytes) {
      refuse(`a part is longer than ${ENTRY_NAME_LIMITS.maxSegmentBytes} bytes`);
    }
  }
  return segments;
}

/** A name as it may appear in a one-line message: controls escaped, length bounded. */
export function printable(name: string): string {
  const escaped = JSON.stringify(name).slice(1, -1);
  return escaped.length > 80 ? `${escaped.slice(0, 77)}...` : escaped;
}
