#!/usr/bin/env bash
# Fail with the given exit code (default 3) after a warning on stderr
set -uo pipefail
code="${1:-3}"
echo "about to fail with exit code $code"
echo "warning: this task fails on purpose" >&2
exit "$code"
