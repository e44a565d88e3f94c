#!/usr/bin/env bash
# The reports benchmark in one command: bench database, migrate, seed 1M tickets, roll up, serve, measure, print.
# Arguments go to `python -m bench.reports` (--help lists them).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .venv/bin/python ]; then
  echo "No virtualenv at .venv: run 'make install' first." >&2
  exit 1
fi
# PostgreSQL, Redis and the two database roles (idempotent).
bash .ci/services.sh
exec .venv/bin/python -m bench.reports "$@"
