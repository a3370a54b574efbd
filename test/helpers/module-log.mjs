// Preloaded with `node --import` (through NODE_OPTIONS, so child processes get it too): logs
// the URL of every module the process imports to the file named by SDCI_MODULE_LOG.
import { register } from "node:module";

register("./module-log-hooks.mjs", import.meta.url);
