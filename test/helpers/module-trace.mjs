// Preloaded with `node --import`: writes the URL of every module the program loads, one a
// line, to the file named by SDCI_MODULE_TRACE, so a test can see what a command pulls in.
import { register } from "node:module";

register("./module-trace-hooks.mjs", import.meta.url, { data: process.env.SDCI_MODULE_TRACE });
