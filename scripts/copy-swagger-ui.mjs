// The five files /docs serves, with Swagger UI's licence, copied from the swagger-ui-dist
// dev dependency into dist/swagger-ui/. Depending on swagger-ui-dist at run time would install
// 12 MB (source maps, ES bundles) to serve 2 MB, plus @scarf/scarf and its install-time script.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const FILES = [
  "swagger-ui.css",
  "swagger-ui-bundle.js",
  "swagger-ui-standalone-preset.js",
  "favicon-32x32.png",
  "favicon-16x16.png",
  "LICENSE",
  "NOTICE",
];

const from = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const to = new URL("../dist/swagger-ui/", import.meta.url).pathname;
mkdirSync(to, { recursive: true });
for (const file of FILES) copyFileSync(join(from, file), join(to, file));
