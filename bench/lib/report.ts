/** Whether a row met its target; `info` rows have none, `n/a` rows could not be measured. */
export type Verdict = "PASS" | "MISS" | "info" | "n/a";

/** One line of the results table: SDCI against its baseline from the same run. */
export interface Row {
  /** B1 .. B6; a benchmark may add more rows under the same id. */
  id: string;
  /** What is measured. */
  measure: string;
  /** SDCI's figure, formatted. */
  sdci: string;
  /** The baseline's figure, formatted, with what the baseline is. */
  baseline: string;
  /** SDCI over the baseline (time: lower is better; rate: higher is better). */
  ratio: number | null;
  /** The target as written in the issue, or "" for an informational row. */
  target: string;
  verdict: Verdict;
  /** What limits the figure, or why the row could not be measured. */
  note?: string;
  /** The raw numbers behind the row, for the JSON file. */
  values: Record<string, unknown>;
}

export interface Results {
  mode: "full" | "quick";
  startedAt: string;
  durationS: number;
  machine: { cpus: number; loadavg: number[]; node: string; kernel: string };
  rows: Row[];
}

export function verdictOf(pass: boolean): Verdict {
  return pass ? "PASS" : "MISS";
}

export function formatRatio(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return "—";
  return `${ratio >= 10 ? ratio.toFixed(0) : ratio >= 1 ? ratio.toFixed(2) : ratio.toFixed(3)}x`;
}

/** Numbers to three significant figures, so the table stays narrow. */
export function fmt(value: number, unit = ""): string {
  if (!Number.isFinite(value)) return "—";
  const text = Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
  return unit ? `${text} ${unit}` : text;
}

const COLUMNS = ["id", "measure", "SDCI", "baseline", "ratio", "target", "result"] as const;

/** The table as Markdown: readable in a terminal, and pasted as is into the README. */
export function formatTable(rows: Row[]): string {
  const cells = rows.map((row) => [
    row.id,
    row.measure,
    row.sdci,
    row.baseline,
    formatRatio(row.ratio),
    row.target || "—",
    row.verdict,
  ]);
  const widths = COLUMNS.map((title, index) => Math.max(title.length, ...cells.map((line) => line[index]!.length)));
  const line = (values: readonly string[]) => `| ${values.map((value, index) => value.padEnd(widths[index]!)).join(" | ")} |`;
  const notes = rows
    .filter((row) => row.note)
    .map((row) => `- ${row.id} ${row.measure}: ${row.note}`);
  return [line(COLUMNS), line(widths.map((width) => "-".repeat(width))), ...cells.map(line), "", ...notes].join("\n");
}
