// Module resolve hook for module-log.mjs: runs on the loader thread, so it appends directly.
import { appendFileSync } from "node:fs";

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (process.env.SDCI_MODULE_LOG) appendFileSync(process.env.SDCI_MODULE_LOG, `${resolved.url}\n`);
  return resolved;
}
