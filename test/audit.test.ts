// Issue 9: the CI audit step fails on high or critical findings and says plainly when the
// registry's audit endpoint could not be asked. The answers below have the shape npm 10/11
// prints; the endpoint itself cannot be reached from here.
import assert from "node:assert/strict";
import { test } from "node:test";
import { auditVerdict } from "../scripts/audit-verdict.js";

const report = (vulnerabilities: Record<string, unknown>, counts: Record<string, number>) =>
  JSON.stringify({
    auditReportVersion: 2,
    vulnerabilities,
    metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: 0, ...counts } },
  });

test("a clean report passes and says so", () => {
  const verdict = auditVerdict(report({}, {}));
  assert.deepEqual(verdict, {
    ok: true,
    checked: true,
    message: "npm audit: no high or critical finding in production dependencies (0 low, 0 moderate)",
  });
});

test("low and moderate findings pass; high or critical fail with the package and advisory named", () => {
  const moderate = { severity: "moderate", via: [{ title: "ReDoS", url: "https://github.com/advisories/GHSA-1" }] };
  assert.equal(auditVerdict(report({ a: moderate }, { moderate: 1, total: 1 })).ok, true);
  const high = { severity: "high", via: [{ title: "Prototype pollution", url: "https://github.com/advisories/GHSA-2" }] };
  const critical = { severity: "critical", via: ["high-dep"] };
  const verdict = auditVerdict(report({ a: moderate, "high-dep": high, top: critical }, { moderate: 1, high: 1, critical: 1 }));
  assert.equal(verdict.ok, false);
  assert.equal(verdict.checked, true);
  assert.match(verdict.message, /high-dep \(high: Prototype pollution https:\/\/github\.com\/advisories\/GHSA-2\); top \(critical\)/);
  assert.doesNotMatch(verdict.message, /\ba \(/);
});

test("an unreachable audit endpoint is reported as NOT CHECKED, not as a pass or a finding", () => {
  const refused = JSON.stringify({
    message: "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk",
    statusCode: 405,
  });
  const offline = JSON.stringify({ error: { code: "ENOTFOUND", summary: "request to https://registry.npmjs.org failed" } });
  for (const answer of [refused, offline]) {
    const verdict = auditVerdict(answer);
    assert.equal(verdict.ok, true);
    assert.equal(verdict.checked, false);
    assert.match(verdict.message, /^npm audit: NOT CHECKED: the registry's audit endpoint could not be used \(.+\)/);
  }
  assert.equal(auditVerdict("npm ERR! something else").ok, false);
});
