import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { Readable } from "node:stream";
import { Command, Option } from "clipanion";
import { formatContentDigest } from "../../assets/content-digest.js";
import { type Problem, apiFailure, normalizeServerUrl } from "../api-client.js";
import { type Asset, type AssetAnswer, putAsset } from "../asset-put.js";
import { CliError } from "../cli-error.js";
import { TapStream, sha256OfFile } from "../byte-streams.js";
import { listFolder, packFolder } from "../folder-archive.js";
import { ServerCommand } from "../server-command.js";
import { createTransferProgress, formatBytes, type TransferProgress } from "../transfer-progress.js";

/** Large reads keep a fast link busy with few system calls; one is all the memory a file upload holds. */
const READ_CHUNK = 1024 * 1024;

interface Sent {
  answer: AssetAnswer;
  /** The SHA-256 of the bytes sent. */
  sha256(): Buffer;
}

export class UploadAssetCommand extends ServerCommand {
  static override paths = [["upload-asset"]];

  static override usage = Command.Usage({
    description: "Upload a file or a folder to the server, atomically",
    details: `
      Sends LOCAL to the server's uploads folder: a file lands at \`REMOTE_PATH/<its name>\`, a
      folder (sent as a tar stream) at \`REMOTE_PATH/<its name>/\`. The server keeps it only when
      every byte arrived and matches the SHA-256 the CLI computed; otherwise nothing appears there.
      An existing destination is never replaced: choose a new REMOTE_PATH (a version, say).

      A progress bar with bytes, rate and ETA is shown on a terminal (plain lines otherwise); it
      reaches 100% when the server has confirmed. The token comes from \`--token\`, else \`SDCI_TOKEN\`.
    `,
    examples: [
      ["Upload a release archive to releases/v1.2.3/app.tar.gz", "$0 upload-asset http://127.0.0.1:8842 ./app.tar.gz releases/v1.2.3"],
      ["Upload a build folder to releases/v1.2.3/dist/", "$0 upload-asset http://127.0.0.1:8842 ./dist releases/v1.2.3"],
    ],
  });

  serverUrl = Option.String({ name: "SERVER_URL" });
  local = Option.String({ name: "LOCAL" });
  remotePath = Option.String({ name: "REMOTE_PATH" });

  protected async run(): Promise<number> {
    const base = normalizeServerUrl(this.serverUrl);
    const token = await this.resolveToken();
    const localPath = resolve(this.local);
    const info = await stat(localPath).catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read '${this.local}': ${error.code === "ENOENT" ? "no such file or folder" : error.code}`);
    });
    if (!info.isFile() && !info.isDirectory()) throw new CliError(`'${this.local}' is neither a file nor a folder`);
    const parts = this.remotePath.split("/").filter((part) => part !== "" && part !== ".");
    // A URL would resolve '..' away before the server could refuse it, landing the upload elsewhere.
    if (parts.includes("..")) throw new CliError(`REMOTE_PATH may not contain '..': '${this.remotePath}'`);
    const remote = [...parts, basename(localPath)].join("/");
    const url = new URL(`${base}/v1/assets/${remote.split("/").map(encodeURIComponent).join("/")}`);
    const authorization = `Bearer ${token}`;
    const label = `uploading ${basename(localPath)}`;

    let progress: TransferProgress | undefined;
    try {
      let sent: Sent;
      if (info.isFile()) {
        const sha256 = await sha256OfFile(localPath, info.size);
        progress = createTransferProgress(this.context.stderr, label, info.size);
        sent = await sendFile(url, authorization, localPath, info.size, sha256, progress);
      } else {
        const entries = await listFolder(localPath);
        progress = createTransferProgress(this.context.stderr, label, entries.reduce((sum, entry) => sum + entry.size, 0));
        sent = await sendFolder(url, authorization, localPath, entries, progress);
      }
      if (sent.answer.status !== 201) throw this.#failure(sent.answer, remote);
      const asset = sent.answer.body as Asset;
      const expected = sent.sha256().toString("hex");
      if (asset.sha256 !== expected) {
        throw new CliError(`the server reports sha256 ${asset.sha256} for '${asset.path}', but ${expected} was sent`);
      }
      progress.finish();
      this.context.stdout.write(`uploaded ${asset.path} (${formatBytes(asset.size)}, sha256 ${asset.sha256})\n`);
      return 0;
    } catch (error) {
      progress?.abandon();
      throw error;
    }
  }

  /** One line for each way the server can refuse an upload. */
  #failure(answer: AssetAnswer, remote: string): CliError {
    const problem = (answer.body ?? {}) as Partial<Problem>;
    const detail = problem.detail ?? problem.title ?? `status ${answer.status}`;
    switch (answer.status) {
      case 409:
        return new CliError(`'${remote}' already exists on ${this.serverUrl}: uploads never replace anything, choose another REMOTE_PATH`);
      case 400:
        return new CliError(`${this.serverUrl} refused the upload: ${detail}`);
      case 413:
        return new CliError(`too large for ${this.serverUrl}: ${detail}`);
      case 422:
        return new CliError(`the data changed or was damaged on the way (${detail}); nothing was kept, try again`);
      case 507:
        return new CliError(`${this.serverUrl} has no room for it: ${detail}`);
      default: {
        const retryAfter = answer.headers["retry-after"];
        const headers = typeof retryAfter === "string" ? { "Retry-After": retryAfter } : undefined;
        return apiFailure(new Response(null, { status: answer.status, headers }), answer.body, this.serverUrl);
      }
    }
  }
}

/** A file: its length and digest are known before it is sent, so both go in the headers. */
async function sendFile(
  url: URL,
  authorization: string,
  path: string,
  size: number,
  sha256: Buffer,
  progress: TransferProgress,
): Promise<Sent> {
  const body = () => {
    const file = size > 0 ? createReadStream(path, { start: 0, end: size - 1, highWaterMark: READ_CHUNK }) : Readable.from([]);
    let bytes = 0;
    const counted = file.pipe(new TapStream((chunk) => progress.update((bytes += chunk.length))));
    file.on("error", (error: Error) => counted.destroy(error));
    return counted;
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
  entries: Awaited<ReturnType<typeof listFolder>>,
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
