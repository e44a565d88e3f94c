#!/usr/bin/env bash
# The foundation benchmark in one command: bench database, migrate, seed 1M tickets, serve, measure, print.
# Arguments go to `python -m bench.foundation` (--help lists them; --record writes docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .venv/bin/python ]; then
  echo "No virtualenv at .venv: run 'make install' first." >&2
  exit 1
fi
# PostgreSQL, Redis and the two database roles (idempotent).
bash .ci/services.sh
# The Python runner stops its server processes on exit, Ctrl-C or SIGTERM.
exec .venv/bin/python -m bench.foundation "$@"
