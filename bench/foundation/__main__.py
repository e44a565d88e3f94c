"""The foundation benchmark, end to end: create a bench database, migrate, seed, serve, measure, print.

    .venv/bin/python -m bench.foundation                 # 1M tickets, as recorded in docs/benchmarks.md
    .venv/bin/python -m bench.foundation --tickets 20000 --quick --replace    # a quick try-out

The database (``helpdesk_bench`` unless --db) is created by this command and left for inspection; --drop
drops it at the end. An existing database of that name is never touched unless --reuse (measure it again,
seeding only if it is empty) or --replace (drop and recreate it) says so. The server processes are stopped
whatever happens.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import machine, pg, process
from bench.common.server import Server
from bench.foundation import measure, report
from bench.foundation.seed import SEEDING_NAME, TENANT_SLUG

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
RESULTS = ROOT / "bench" / "results"
REDIS_URL = "redis://127.0.0.1:6379/12"
SERVER_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-secret-key-not-for-production",
    "ALLOWED_HOSTS": "127.0.0.1",
    "REDIS_URL": REDIS_URL,
    "DATABASE_APP_ROLE": pg.APP_ROLE,
    # As deployed (docker-compose.yml): a connection pool per process. Without it, every ASGI request opens a
    # new PostgreSQL connection.
    "DB_POOL": "true",
    "LOG_LEVEL": "WARNING",
    "PYTHONDONTWRITEBYTECODE": "1",
}


log = process.log


def run_python(args: list[str], *, env: dict[str, str], capture_last_json: bool = False) -> dict | None:
    """A module of this repository run with the server's environment (bench.common.process.run_python)."""
    result = process.run_python(args, env={**SERVER_ENV, **env})
    return result if capture_last_json else None


def seeded_tickets(dbname: str) -> int | None:
    """Tickets of the bench tenant, or None when the database holds no bench tenant (or no tables yet)."""
    with pg.connect(role=pg.SUPERUSER, dbname=dbname) as conn:
        if conn.execute("SELECT to_regclass('helpdesk_tenant')").fetchone()[0] is None:
            return None
        row = conn.execute("SELECT id, name FROM helpdesk_tenant WHERE slug = %s", [TENANT_SLUG]).fetchone()
        if row is None:
            return None
        if row[1] == SEEDING_NAME:
            raise SystemExit(f"{dbname} holds an interrupted seed: pass --replace to start over.")
        return conn.execute("SELECT count(*) FROM tickets_ticket WHERE tenant_id = %s", [row[0]]).fetchone()[0]


def seed_record(dbname: str) -> Path:
    """How the database was seeded, kept beside the results so a --reuse run can still report it."""
    return RESULTS / f"{dbname}-seed.json"


def busiest_department(dbname: str, tenant_id: int) -> int:
    with pg.connect(role=pg.SUPERUSER, dbname=dbname) as conn:
        return conn.execute(
            "SELECT department_id FROM tickets_ticket WHERE tenant_id = %s AND department_id IS NOT NULL "
            "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1", [tenant_id]).fetchone()[0]


def _redis(commands: bytes) -> bytes:
    import socket

    with socket.create_connection(("127.0.0.1", 6379), timeout=2) as sock:
        sock.sendall(commands)
        time.sleep(0.1)
        return sock.recv(256)


def redis_ok() -> bool:
    try:
        return _redis(b"PING\r\n").startswith(b"+PONG")
    except OSError:
        return False


def redis_empty_bench_db() -> None:
    """Redis database 12 is the benchmark's: the creates queue routing tasks there that no worker runs."""
    db = REDIS_URL.rsplit("/", 1)[1]
    try:
        _redis(f"SELECT {db}\r\nFLUSHDB\r\n".encode())
    except OSError as exc:
        log(f"Could not empty Redis database {db}: {exc}")


def code_version() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = [line for line in git("status", "--porcelain").splitlines() if not line[3:].startswith(("bench/", "docs/"))]
    return commit + (" with uncommitted changes" if dirty else "")


def _stop_on_signal(signum, frame):
    raise SystemExit(128 + signum)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.foundation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000, help="tickets to seed (default 1,000,000)")
    parser.add_argument("--db", default="helpdesk_bench", help="bench database name (default helpdesk_bench)")
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument("--reuse", action="store_true", help="measure an existing bench database again")
    existing.add_argument("--replace", action="store_true", help="drop an existing bench database and start over")
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    parser.add_argument("--processes", default="1,2",
                        help="server process counts to measure, comma-separated (default 1,2)")
    parser.add_argument("--port", type=int, default=0, help="server port (default: any free port)")
    parser.add_argument("--no-pool", action="store_true",
                        help="serve without the connection pool (DB_POOL=false), to compare")
    parser.add_argument("--quick", action="store_true", help="fewer requests: for trying the bench out")
    parser.add_argument("--record", action="store_true",
                        help="write the figures into docs/benchmarks.md (the latest-run block of the section)")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.db) or args.db in {"helpdesk", "postgres", "test"}:
        parser.error("--db must be a dedicated bench database name")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGHUP, _stop_on_signal)
    started = time.perf_counter()
    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    plan = measure.Plan.quick() if args.quick else measure.Plan()
    processes = [int(p) for p in args.processes.split(",") if p.strip()]
    if not redis_ok():
        raise SystemExit("Redis is not answering on 127.0.0.1:6379 (bash .ci/services.sh starts it).")
    created = measured = False
    result: dict = {"run_id": run_id, "tickets_requested": args.tickets, "quick": args.quick}
    try:
        # --- database ---------------------------------------------------------------------------------------
        if pg.database_exists(args.db):
            if args.replace:
                log(f"Dropping the previous bench database {args.db}")
                pg.database_drop(args.db)
            elif not args.reuse:
                raise SystemExit(f"Database {args.db} exists: pass --reuse to measure it again, or --replace.")
        if not pg.database_exists(args.db):
            log(f"Creating database {args.db} (owner {pg.OWNER_ROLE})")
            pg.database_create(args.db)
            created = True
        log("Migrating")
        run_python(["manage.py", "migrate", "--no-input", "-v", "0"],
                   env={"DATABASE_URL": pg.url(role=pg.OWNER_ROLE, dbname=args.db), "DB_POOL": "false"})

        # --- seed -------------------------------------------------------------------------------------------
        # Bulk loading bypasses row-level security, so it connects as the superuser (see seed.py).
        seed_env = {"DATABASE_URL": pg.url(role=pg.SUPERUSER, dbname=args.db), "DB_POOL": "false"}
        existing_tickets = seeded_tickets(args.db)
        if existing_tickets is None:
            log(f"Seeding {args.tickets:,} tickets")
            seed = run_python(["-m", "bench.foundation.seed", "--tickets", str(args.tickets)], env=seed_env,
                              capture_last_json=True)
            result["seed"] = {"tickets": args.tickets, "seconds": seed["seconds"], "rows": seed["rows"],
                              "timings_s": seed["timings_s"], "date": machine.describe("")["date"]}
            RESULTS.mkdir(parents=True, exist_ok=True)
            seed_record(args.db).write_text(json.dumps(result["seed"], indent=2))
        else:
            log(f"Reusing the seeded database ({existing_tickets:,} tickets)")
            seed = run_python(["-m", "bench.foundation.seed", "--api-key-only"], env=seed_env,
                              capture_last_json=True)
            previous = json.loads(seed_record(args.db).read_text()) if seed_record(args.db).exists() else {}
            result["seed"] = {**previous, "tickets_now": existing_tickets, "reused": True}
            # New migrations may have added indexes or statistics; autovacuum would analyze them in time.
            with pg.connect(role=pg.SUPERUSER, dbname=args.db) as conn:
                conn.execute("ANALYZE")
        department_id = busiest_department(args.db, seed["tenant_id"])
        with pg.connect(role=pg.SUPERUSER, dbname=args.db) as conn:
            result["database_size"] = conn.execute(
                "SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]

        # --- measure ----------------------------------------------------------------------------------------
        server_env = {"DATABASE_URL": pg.url(role=pg.APP_ROLE, dbname=args.db)}
        if args.no_pool:
            server_env["DB_POOL"] = "false"
        target = measure.Target(
            port=args.port, dbname=args.db, tenant_id=seed["tenant_id"], department_id=department_id,
            api_key=seed["api_key"], login_email=seed["login_email"], login_password=seed["login_password"],
        )
        result["runs"] = []
        measured = True
        code_at_start = code_version()
        for count in processes:
            # Seeding and the previous run leave work behind (checkpoints, autovacuum); others may share the host.
            busy = machine.wait_until_quiet()
            log(f"CPU busy before measuring: {busy:.0%}" + (" (not idle: the figures will show it)" if busy > 0.15
                                                            else ""))
            with Server(root=ROOT, env={**SERVER_ENV, **server_env}, processes=count, port=args.port,
                        log_dir=RESULTS / "logs", own_ports=True) as server:
                ports = ", ".join(str(p) for p in server.ports)
                log(f"Serving with {count} daphne process{'es' if count > 1 else ''} on 127.0.0.1 port(s) {ports},"
                    " connections spread round-robin over them")
                target.port, target.ports = server.port, list(server.ports)
                target._turn = itertools.count()
                target.session_cookie = measure.login(target)
                if target.session_cookie is None:
                    target.notes.append("no login form answered: the web inbox was not measured")
                summaries = measure.run_all(target, plan, label=f"{count}p", run_id=f"{run_id}p{count}")
            server_label = f"{count} daphne" + (", no pool" if args.no_pool else "")
            result["runs"].append({"server": server_label, "processes": count, "cpu_busy_before": round(busy, 3),
                                   "summaries": [s.as_dict() for s in summaries]})

        # --- plans ------------------------------------------------------------------------------------------
        log("Query plans of the list pages (in-process, as the application role)")
        deep = measure.deep_cursors_cached(target)
        pages = [f"api_first={measure.api_list_path(target)}", f"api_deep={measure.api_list_path(target, deep)}"]
        if target.session_cookie:
            pages += [f"inbox_first={measure.inbox_path(target)}", f"inbox_deep={measure.inbox_path(target, deep)}"]
        try:
            result["plans"] = run_python(
                ["-m", "bench.foundation.explain", "--create", "--api-key", target.api_key, "--login",
                 target.login_email, *[arg for page in pages for arg in ("--page", page)]],
                env=server_env, capture_last_json=True)
        except SystemExit as exc:
            target.notes.append(f"the query plans could not be taken: {exc}")
        result["department_id"] = department_id
        result["department_tickets"] = measure.department_size(target)
        result["notes"] = target.notes
        result["machine"] = machine.describe(pg.server_version())
        result["code"] = code_at_start
        if code_version() != code_at_start:
            target.notes.append(f"the code changed during the run (from {code_at_start} to {code_version()})")
        result["postgres_settings"] = pg.server_settings(["shared_buffers", "work_mem", "effective_cache_size"])
        result["seconds"] = round(time.perf_counter() - started, 1)
    finally:
        if measured:
            redis_empty_bench_db()
        if args.drop and created:
            log(f"Dropping {args.db}")
            pg.database_drop(args.db)

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"foundation-{run_id}.json"
    out.write_text(json.dumps(result, indent=2))
    markdown = report.render(result, command=" ".join(["bash bench/foundation/run.sh", *(argv or sys.argv[1:])]))
    print()
    print(markdown)
    log(f"Raw figures and full plans: {out.relative_to(ROOT)}")
    if args.record:
        report.record(ROOT / "docs" / "benchmarks.md", markdown)
        log("Recorded in docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
