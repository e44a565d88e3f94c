#!/usr/bin/env bash
# The push benchmark in one command: bench database, 1,000 agent sockets on one daphne, offer latency from
# routing's commit to the socket, delivered and lost counts, and a plain websockets echo for the ratio.
# Arguments go to `python -m bench.push` (--help lists them).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .venv/bin/python ]; then
  echo "No virtualenv at .venv: run 'make install' first." >&2
  exit 1
fi
if ! .venv/bin/python -c "import websockets" 2>/dev/null; then
  echo "The websockets package is missing from .venv: run 'make install' (it is a dev dependency)." >&2
  exit 1
fi
# A thousand client sockets and the server's ends of them need file descriptors on both sides.
ulimit -n 8192 2>/dev/null || true
# PostgreSQL, Redis and the two database roles (idempotent).
bash .ci/services.sh
exec .venv/bin/python -m bench.push "$@"
