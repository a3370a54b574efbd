import { createRequire } from "node:module";

/**
 * typanion, the validators clipanion options take, loaded with require(): it ships CommonJS
 * only, and an ESM import makes Node scan all 50 kB of it for export names first, which cost
 * about a third of `sdci-cli --version`'s start-up (test/startup.test.ts, bench/startup.sh).
 */
export const t: typeof import("typanion") = createRequire(import.meta.url)("typanion");
