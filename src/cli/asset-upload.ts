import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { Readable, pipeline } from "node:stream";
import { formatContentDigest } from "../assets/content-digest.js";
import { type Problem, apiFailure, normalizeServerUrl } from "./api-client.js";
import { type Asset, type AssetAnswer, putAsset } from "./asset-put.js";
import { CheckedEnd, TapStream, sha256OfFile } from "./byte-streams.js";
import { destinationNameProblem, destinationPathProblem, printable } from "../assets/asset-path.js";
import { CliError, readFailure } from "./cli-error.js";
import { type FolderEntry, listFolder, packFolder } from "./folder-archive.js";
import { type TransferProgress, createTransferProgress, formatBytes } from "./transfer-progress.js";

/** Large reads keep a fast link busy with few system calls; one is all the memory a file upload holds. */
const READ_CHUNK = 1024 * 1024;

export interface AssetUploadOptions {
  serverUrl: string;
  token: string;
  /** The local file or folder, as the user named it. */
  local: string;
  /** The folder on the server it goes into. */
  remotePath: string;
  stdout: NodeJS.WritableStream;
  /** Where progress goes: a bar when it is a terminal, plain lines otherwise. */
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

interface Sent {
  answer: AssetAnswer;
  /** The SHA-256 of the bytes sent. */
  sha256(): Buffer;
}

/**
 * Uploads a file or a folder and checks that the server holds exactly what was sent; throws
 * a CliError with one line for every way it can fail. Returns the exit code.
 */
export async function uploadAsset(options: AssetUploadOptions): Promise<number> {
  const base = normalizeServerUrl(options.serverUrl);
  const localPath = resolve(options.local);
  const cannotRead = (error: unknown): never => {
    throw new CliError(`cannot read '${options.local}': ${readFailure(error)}`);
  };
  const info = await stat(localPath).catch(cannotRead);
  if (!info.isFile() && !info.isDirectory()) throw new CliError(`'${options.local}' is neither a file nor a folder`);
  const name = basename(localPath);
  if (!name) throw new CliError("LOCAL may not be the root folder '/': name a file or folder inside it");
  // The server keeps LOCAL's own name; one it would refuse is better said before any hashing.
  const nameProblem = destinationNameProblem(name);
  if (nameProblem) throw new CliError(`'${options.local}' cannot keep its name on the server (${nameProblem}); copy or rename it first`);
  const parts = options.remotePath.split("/").filter((part) => part !== "" && part !== ".");
  // A URL would resolve '..' away before the server could refuse it, landing the upload elsewhere.
  if (parts.includes("..")) throw new CliError(`REMOTE_PATH may not contain '..': '${options.remotePath}'`);
  const remoteProblem = destinationPathProblem(parts);
  if (remoteProblem) throw new CliError(`REMOTE_PATH '${printable(parts.join("/"))}' would be refused by the server (${remoteProblem})`);
  const remote = [...parts, name].join("/");
  const fullProblem = destinationPathProblem([...parts, name]);
  if (fullProblem) throw new CliError(`'${printable(remote)}' would be refused by the server (${fullProblem}): shorten REMOTE_PATH`);
  const url = new URL(`${base}/v1/assets/${remote.split("/").map(encodeURIComponent).join("/")}`);
  const authorization = `Bearer ${options.token}`;
  const label = `uploading ${name}`;

  let progress: TransferProgress | undefined;
  try {
    let sent: Sent;
    if (info.isFile()) {
      const sha256 = await sha256OfFile(localPath, info.size).catch(cannotRead);
      progress = createTransferProgress(options.stderr, label, info.size);
      sent = await sendFile(url, authorization, { path: localPath, shown: options.local, size: info.size }, sha256, progress);
    } else {
      const entries = await listFolder(localPath);
      progress = createTransferProgress(options.stderr, label, entries.reduce((sum, entry) => sum + entry.size, 0));
      sent = await sendFolder(url, authorization, localPath, entries, progress);
    }
    if (sent.answer.status !== 201) throw refusal(sent.answer, remote, options.serverUrl);
    const asset = sent.answer.body as Asset | undefined;
    // Whatever else answers at SERVER_URL (a proxy's page, another service) may say 201 too.
    if (typeof asset?.sha256 !== "string" || typeof asset.path !== "string") {
      throw new CliError(`${options.serverUrl} answered 201 but not with the asset it stored (is it an sdci-server?)`);
    }
    const expected = sent.sha256().toString("hex");
    if (asset.sha256 !== expected) {
      throw new CliError(`the server reports sha256 ${asset.sha256} for '${asset.path}', but ${expected} was sent`);
    }
    progress.finish();
    options.stdout.write(`uploaded ${asset.path} (${formatBytes(asset.size)}, sha256 ${asset.sha256})\n`);
    return 0;
  } catch (error) {
    progress?.abandon();
    throw error;
  }
}

/** One line for each way the server can refuse an upload. */
function refusal(answer: AssetAnswer, remote: string, serverUrl: string): CliError {
  const problem = (answer.body ?? {}) as Partial<Problem>;
  const detail = problem.detail ?? problem.title ?? `status ${answer.status}`;
  switch (answer.status) {
    case 409:
      // The destination's folder went away during the upload: the same REMOTE_PATH will do next time.
      if (problem.type === "urn:sdci:problem:conflict") return new CliError(`${serverUrl} refused the upload: ${detail}`);
      // The server names what is in the way: the destination itself, or a file where one of its folders should be.
      if (problem.detail) return new CliError(`${serverUrl} refused the upload: ${problem.detail}; choose another REMOTE_PATH`);
      return new CliError(`'${remote}' already exists on ${serverUrl}: uploads never replace anything, choose another REMOTE_PATH`);
    case 400:
      return new CliError(`${serverUrl} refused the upload: ${detail}`);
    case 413:
      return new CliError(`too large for ${serverUrl}: ${detail}`);
    case 422:
      return new CliError(`the data changed or was damaged on the way (${detail}); nothing was kept, try again`);
    case 507:
      return new CliError(`${serverUrl} has no room for it: ${detail}`);
    default: {
      const retryAfter = answer.headers["retry-after"];
      const headers = typeof retryAfter === "string" ? { "Retry-After": retryAfter } : undefined;
      return apiFailure(new Response(null, { status: answer.status, headers }), answer.body, serverUrl);
    }
  }
}


interface LocalFile {
  path: string;
  /** As the user named it. */
  shown: string;
  /** The length announced in Content-Length. */
  size: number;
}

/** A file: its length and digest are known before it is sent, so both go in the headers. */
async function sendFile(url: URL, authorization: string, local: LocalFile, sha256: Buffer, progress: TransferProgress): Promise<Sent> {
  const { path, size } = local;
  const body = () => {
    const file = size > 0 ? createReadStream(path, { start: 0, end: size - 1, highWaterMark: READ_CHUNK }) : Readable.from([]);
    let bytes = 0;
    // A file that shrank ends short of its Content-Length, and the server would wait for the
    // rest; one that grew would land cut. Either way the last chunk is never sent.
    const unchanged = async () => {
      const now = await stat(path).catch(() => undefined);
      if (bytes !== size || now?.size !== size) {
        throw new CliError(`'${local.shown}' changed while it was being sent; nothing was kept`);
      }
    };
    const counted = new TapStream((chunk) => progress.update((bytes += chunk.length)));
    return pipeline(file, counted, new CheckedEnd(unchanged), () => {});
  };
  const answer = await putAsset({
    url,
    headers: {
      Authorization: authorization,
      "Content-Type": "application/octet-stream",
      "Content-Length": size,
      "Content-Digest": formatContentDigest(sha256),
    },
    body,
  });
  return { answer, sha256: () => sha256 };
}

/**
 * A folder, packed as tar while it is sent. Its exact length is known only once packed, so
 * it goes chunked, with its digest (computed on the way) in a Content-Digest trailer.
 */
async function sendFolder(
  url: URL,
  authorization: string,
  root: string,
  entries: FolderEntry[],
  progress: TransferProgress,
): Promise<Sent> {
  const hash = createHash("sha256");
  let sha256: Buffer | undefined;
  const digest = () => (sha256 ??= hash.digest());
  const body = () => {
    let bytes = 0;
    const archive = packFolder(root, entries, (chunk) => progress.update((bytes += chunk)));
    const hashed = archive.pipe(new TapStream((chunk) => hash.update(chunk)));
    archive.on("error", (error) => hashed.destroy(error));
    return hashed;
  };
  const answer = await putAsset({
    url,
    headers: {
      Authorization: authorization,
      "Content-Type": "application/x-tar",
      "Transfer-Encoding": "chunked",
      Trailer: "Content-Digest",
    },
    body,
    trailers: () => ({ "Content-Digest": formatContentDigest(digest()) }),
  });
  return { answer, sha256: digest };
}
