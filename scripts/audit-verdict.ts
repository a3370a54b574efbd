/** What `npm audit --omit=dev --json` said, in one line for CI, and whether CI may go on. */
export interface AuditVerdict {
  /** false: a high or critical finding (or an unreadable answer) — CI fails. */
  ok: boolean;
  /** false: the registry's audit endpoint could not be asked, so nothing was checked. */
  checked: boolean;
  message: string;
}

type Severity = "info" | "low" | "moderate" | "high" | "critical";

interface AuditReport {
  vulnerabilities?: Record<string, { severity: Severity; via: (string | { title?: string; url?: string })[] }>;
  metadata?: { vulnerabilities?: Partial<Record<Severity | "total", number>> };
  error?: { code?: string; summary?: string };
  message?: string;
  statusCode?: number;
}

/**
 * Reads npm's JSON report. Findings above moderate fail; an audit that could not reach the
 * registry passes but says so plainly, because a network outage is not a vulnerability.
 */
export function auditVerdict(stdout: string): AuditVerdict {
  let report: AuditReport;
  try {
    report = JSON.parse(stdout) as AuditReport;
  } catch {
    return { ok: false, checked: false, message: `npm audit: unreadable answer: ${stdout.trim().split("\n")[0] ?? ""}` };
  }
  const counts = report.metadata?.vulnerabilities;
  if (!counts) {
    const why = report.error?.summary || report.message || report.error?.code || "no report";
    return {
      ok: true,
      checked: false,
      message: `npm audit: NOT CHECKED: the registry's audit endpoint could not be used (${why.split("\n")[0]}); run \`npm run audit\` where it can be reached`,
    };
  }
  const serious = Object.entries(report.vulnerabilities ?? {}).filter(([, v]) => v.severity === "high" || v.severity === "critical");
  if (serious.length > 0) {
    const list = serious.map(([name, v]) => {
      const advisory = v.via.find((via): via is { title?: string; url?: string } => typeof via === "object");
      return `${name} (${v.severity}${advisory?.title ? `: ${advisory.title}` : ""}${advisory?.url ? ` ${advisory.url}` : ""})`;
    });
    return { ok: false, checked: true, message: `npm audit: high or critical findings in production dependencies: ${list.join("; ")}` };
  }
  const minor = (["low", "moderate"] as const).map((s) => `${counts[s] ?? 0} ${s}`).join(", ");
  return { ok: true, checked: true, message: `npm audit: no high or critical finding in production dependencies (${minor})` };
}
