#!/usr/bin/env bash
# Prints the path of a Python >= 3.12: $PYTHON if given, then python3.12/python3.13 on PATH, then pyenv's builds.
set -u
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
for name in python3.12 python3.13 python3; do
  path=$(command -v "$name" 2>/dev/null) && candidates+=("$path")
done
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for path in $(ls -d "$root"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -V); do candidates+=("$path"); done
fi
for candidate in "${candidates[@]}"; do
  if ok "$candidate"; then echo "$candidate"; exit 0; fi
done
echo "ERROR: Python 3.12 or newer is required (Django 6 needs it). Install one, or point PYTHON=/path/to/python3.12 at it." >&2
exit 1
