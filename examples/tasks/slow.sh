#!/usr/bin/env bash
# Print a numbered line every second, N times (default 5), to watch output arrive live
set -euo pipefail
count="${1:-5}"
for ((i = 1; i <= count; i++)); do
  echo "step $i of $count"
  sleep 1
done
echo "done"
