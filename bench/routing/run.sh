#!/usr/bin/env bash
# The routing benchmark in one command: bench database, seed, 8 routing workers, invariants, pgbench ratio.
# Arguments go to `python -m bench.routing` (--help lists them).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .venv/bin/python ]; then
  echo "No virtualenv at .venv: run 'make install' first." >&2
  exit 1
fi
# PostgreSQL, Redis and the two database roles (idempotent).
bash .ci/services.sh
exec .venv/bin/python -m bench.routing "$@"
