#!/usr/bin/env bash
# The rules benchmark in one command: bench database, seed, API ticket creation with 0 and 50 active rules,
# the rule engine's cost per ticket, dry runs over the seeded tickets. Arguments go to `python -m bench.rules`.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .venv/bin/python ]; then
  echo "No virtualenv at .venv: run 'make install' first." >&2
  exit 1
fi
# PostgreSQL, Redis and the two database roles (idempotent).
bash .ci/services.sh
exec .venv/bin/python -m bench.rules "$@"
