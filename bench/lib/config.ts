import type { Row } from "./report.js";

/** What every benchmark is given: the mode and a way to say what it is doing. */
export interface BenchConfig {
  /** Small sizes, for CI: checks that the benchmarks still run, not that targets are met. */
  quick: boolean;
  /** Progress on stderr, so stdout carries only the table. */
  progress(message: string): void;
}

export type Benchmark = (config: BenchConfig) => Promise<Row[]>;
