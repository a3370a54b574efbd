/**
 * Run by the steps runner as `sudo node privileged-write.js PATH MODE` with the content on
 * stdin, so a setup started without root writes /etc files (and the token never appears in
 * a process list) through the same atomic writer as a setup run as root.
 */
import { writeFileAtomically } from "./atomic-file.js";

const [path, mode] = process.argv.slice(2);
if (path === undefined || mode === undefined || !/^0[0-7]{3}$/.test(mode)) {
  process.stderr.write("usage: privileged-write.js PATH MODE (octal, e.g. 0600) < content\n");
  process.exit(2);
}
const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
try {
  await writeFileAtomically(path, Buffer.concat(chunks).toString("utf8"), Number.parseInt(mode, 8));
} catch (error) {
  process.stderr.write(`cannot write ${path}: ${(error as Error).message}\n`);
  process.exit(1);
}
