// CI step: `npm audit --omit=dev` must find nothing high or critical. When the registry's audit
// endpoint cannot be reached the step says NOT CHECKED and passes; SDCI_AUDIT_REQUIRED=1
// makes that a failure too.
import { execFile } from "node:child_process";
import { auditVerdict } from "./audit-verdict.js";

const npm = process.platform === "win32" ? "npm.cmd" : "npm";
execFile(npm, ["audit", "--omit=dev", "--json"], { maxBuffer: 64 * 1024 * 1024 }, (_error, stdout) => {
  const verdict = auditVerdict(stdout);
  const required = process.env.SDCI_AUDIT_REQUIRED === "1";
  (verdict.ok ? console.log : console.error)(verdict.message);
  process.exitCode = verdict.ok && (verdict.checked || !required) ? 0 : 1;
});
