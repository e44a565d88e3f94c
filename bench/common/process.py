"""What every benchmark command does around its measurements: run this repository's modules with the venv's
Python, and start from a freshly created and migrated bench database."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from bench.common import pg

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def log(message: str = "") -> None:
    print(message, flush=True)


def run_python(args: list[str], *, env: dict[str, str]) -> dict | None:
    """Run ``python <args>`` in the repository with ``env`` over this environment; stream its output and return
    its last line that is a JSON object (the modules' way of handing figures back), if any."""
    proc = subprocess.Popen([PYTHON, *args], cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True)
    last = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("{"):
            last = line
        else:
            print("    " + line.rstrip(), flush=True)
    if proc.wait() != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed with exit code {proc.returncode}")
    return json.loads(last) if last else None


def database_fresh(dbname: str, *, env: dict[str, str]) -> dict[str, str]:
    """Drop and recreate ``dbname`` and migrate it as the owner, as a deployment does (row-level security
    enabled and forced). Returns the owner's environment for the seeding steps."""
    if not dbname.startswith("helpdesk_bench"):
        raise SystemExit("The bench database name must start with helpdesk_bench: it is dropped and recreated.")
    log(f"Database {dbname}: recreating and migrating as {pg.OWNER_ROLE}")
    pg.database_drop(dbname)
    pg.database_create(dbname)
    owner_env = {"DATABASE_URL": pg.url(role=pg.OWNER_ROLE, dbname=dbname)}
    run_python(["manage.py", "migrate", "--no-input", "-v", "0"], env={**env, **owner_env})
    return owner_env
