#!/usr/bin/env bash
# Startup time of both commands against `node -e 0`, measured with hyperfine (Debian package
# `hyperfine`). The target (issue 10): `sdci-cli --version` and `--help` take at most 3x as long
# as `node -e 0`. Prints each command's median and minimum as a ratio to `node -e 0`, and keeps
# hyperfine's full results in bench/results/startup.json. RUNS=N sets the runs per command, WARMUP=N the warm-up runs.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "bench/startup.sh needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[ -f dist/cli/main.js ] || npm run build >/dev/null
mkdir -p bench/results
hyperfine --shell=none --warmup "${WARMUP:-5}" --runs "${RUNS:-40}" --style basic --export-json bench/results/startup.json \
  'node -e 0' \
  'node dist/cli/main.js --version' \
  'node dist/cli/main.js --help' \
  'node dist/server/main.js --version' \
  'node dist/server/main.js --help' >/dev/null
node --input-type=module -e '
  import { readFileSync } from "node:fs";
  const [base, ...rest] = JSON.parse(readFileSync("bench/results/startup.json", "utf8")).results;
  const ms = (s) => (s * 1000).toFixed(1).padStart(7);
  console.log(`${"command".padEnd(36)} median ms  min ms  median/base  min/base`);
  for (const r of [base, ...rest]) {
    const ratio = (a, b) => (a / b).toFixed(2).padStart(11);
    console.log(`${r.command.padEnd(36)} ${ms(r.median)}  ${ms(r.min)} ${ratio(r.median, base.median)} ${ratio(r.min, base.min)}`);
  }'
