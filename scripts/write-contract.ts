// Writes openapi.yaml from the app's routes. Run through `npm run contract`, which then
// regenerates generated/ from the file; a test fails when either drifts from the code.
import { writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { describeApi } from "../src/api/contract.js";

const header = "# The SDCI HTTP contract. Written by `npm run contract` from the routes in src/api; do not edit by hand.\n";
writeFileSync(new URL("../openapi.yaml", import.meta.url), header + stringify(describeApi(), { lineWidth: 0, aliasDuplicateObjects: false }));
