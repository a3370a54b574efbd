// npm sets the executable bit on bins only when it installs a package; a git checkout
// built with `npm run build` needs it too so `./dist/cli/main.js` runs directly.
import { chmodSync, readFileSync } from "node:fs";

const { bin } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
for (const path of Object.values(bin)) chmodSync(new URL(`../${path}`, import.meta.url), 0o755);
