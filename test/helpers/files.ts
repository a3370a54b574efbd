import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";

/** Writes `bytes` random bytes to `path` in chunks (flat memory) and returns their hex SHA-256. */
export async function writeRandomFile(path: string, bytes: number): Promise<string> {
  const hash = createHash("sha256");
  const out = createWriteStream(path);
  const chunk = 1024 * 1024;
  for (let written = 0; written < bytes; written += chunk) {
    const data = randomBytes(Math.min(chunk, bytes - written));
    hash.update(data);
    if (!out.write(data)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return hash.digest("hex");
}

/** A file of `bytes` zeros that takes no room on disk (a sparse file), for uploads that only need to be large. */
export function writeSparseFile(path: string, bytes: number): void {
  writeFileSync(path, "");
  truncateSync(path, bytes);
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** `Content-Digest` for a body. */
export function contentDigest(data: Buffer | string): string {
  return `sha-256=:${createHash("sha256").update(data).digest("base64")}:`;
}

/** Every path under `dir` (files, folders, links, hidden names), relative and sorted; [] when it does not exist. */
export function listTree(dir: string): string[] {
  const found: string[] = [];
  const visit = (relative: string) => {
    let entries;
    try {
      entries = readdirSync(join(dir, relative), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      found.push(path);
      if (entry.isDirectory()) visit(path);
    }
  };
  visit("");
  return found.sort();
}

/** Peak and current resident memory of a process, in bytes, from /proc/<pid>/status. */
export function residentMemory(pid: number): { peak: number; current: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
  return { peak: kib("VmHWM"), current: kib("VmRSS") };
}
