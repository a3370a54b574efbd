#!/usr/bin/env bash
# Greet each parameter on its own line (shows parameters arrive unchanged)
set -euo pipefail
echo "hello from $(hostname) as $(id -un), run ${SDCI_RUN_ID:-?}"
for param in "$@"; do
  printf 'param: %s\n' "$param"
done
