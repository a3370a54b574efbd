// Module hooks for module-trace.mjs; they run on the loader's own thread, hence the file.
import { appendFileSync } from "node:fs";

let traceFile;

export function initialize(file) {
  traceFile = file;
}

export async function load(url, context, nextLoad) {
  appendFileSync(traceFile, `${url}\n`);
  return nextLoad(url, context);
}
