import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package's root folder, found from this file so it works from src/, dist/ and a global install. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The version in package.json: the single source of `--version`, `/health` and the contract. */
export const packageVersion: string = JSON.parse(
  readFileSync(join(packageRoot, "package.json"), "utf8"),
).version;
