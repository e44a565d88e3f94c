"""The reports benchmark, end to end: bench database, migrate, seed a year of traffic, roll it up, serve, measure.

    .venv/bin/python -m bench.reports                    # 1M tickets, ~5.7M events, as in docs/benchmarks.md
    .venv/bin/python -m bench.reports --tickets 20000 --replace --quick     # a quick try-out

Seeds with the foundation benchmark's seed (one tenant, 20 departments, 200 agents, a year of tickets,
messages and events loaded with COPY), adds customer ratings, rolls the log up with the rebuild command, then
measures the report API through daphne (2 processes): p50/p99 of a year by day by department, a month by day
by agent, and a 90-day range by channel; the CSV export of the largest (rows/s, the serving process's peak
memory); and, in the same run, the same reports computed naively by GROUP BY over the raw log, with the ratio.
The database (``helpdesk_bench_reports`` unless --db) is left for inspection unless --drop.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from bench.common import machine, pg
from bench.common.http import Client
from bench.common.server import Server
from bench.common.stats import summarize
from bench.foundation.__main__ import ROOT, SERVER_ENV, redis_empty_bench_db, redis_ok, run_python, seeded_tickets

RESULTS = ROOT / "bench" / "results"
URL = "/api/v1/reports/departments/"


def log(message: str) -> None:
    print(message, flush=True)


def _stop_on_signal(signum, frame):
    raise SystemExit(128 + signum)


DEFAULTS = {"integer": "0", "smallint": "0", "bigint": "0", "boolean": "false", "character varying": "''",
            "text": "''", "jsonb": "'{}'", "timestamp with time zone": "now()"}


def default_new_columns(dbname: str) -> None:
    """Give NOT NULL columns without a database default one (their model's default), so the foundation seed,
    which lists the columns it knows, still loads when models have grown columns it does not know."""
    with pg.connect(role=pg.SUPERUSER, dbname=dbname) as conn:
        columns = conn.execute(
            """SELECT table_name, column_name, data_type FROM information_schema.columns
               WHERE table_schema = 'public' AND is_nullable = 'NO' AND column_default IS NULL
                 AND column_name <> 'id' AND data_type = ANY(%s)""", [list(DEFAULTS)]).fetchall()
        for table, column, data_type in columns:
            conn.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET DEFAULT {DEFAULTS[data_type]}')


def seed_ratings(dbname: str) -> int:
    """A rating for about a third of resolved tickets, by the agent and department that resolved them."""
    with pg.connect(role=pg.SUPERUSER, dbname=dbname) as conn:
        conn.execute("DELETE FROM reports_rating")
        conn.execute(
            """INSERT INTO reports_rating (tenant_id, ticket_id, value, comment, agent_id, department_id, channel,
                                           token_hash, created_at, updated_at)
            SELECT t.tenant_id, t.id, CASE WHEN t.id % 5 = 0 THEN 'negative' ELSE 'positive' END, '',
                   t.assignee_id, t.department_id, t.channel, md5(t.id::text) || md5(t.code),
                   t.resolved_at + interval '2 hours', t.resolved_at + interval '2 hours'
            FROM tickets_ticket t
            WHERE t.status = 'resolved' AND t.resolved_at IS NOT NULL AND t.id % 3 = 0
              AND t.resolved_at + interval '2 hours' < now()""")
        count = conn.execute("SELECT count(*) FROM reports_rating").fetchone()[0]
        conn.execute("VACUUM (ANALYZE) reports_rating")
        return count


def cases(today: date) -> list[dict]:
    return [
        {"name": "year by day, by department", "params": {
            "date_from": (today - timedelta(days=364)).isoformat(), "date_to": today.isoformat(),
            "interval": "day", "group_by": "department"}},
        {"name": "month by day, by agent", "params": {
            "date_from": (today - timedelta(days=29)).isoformat(), "date_to": today.isoformat(),
            "interval": "day", "group_by": "agent"}},
        {"name": "90-day range, by channel", "params": {
            "date_from": (today - timedelta(days=89)).isoformat(), "date_to": today.isoformat(),
            "interval": "range", "group_by": "channel"}},
    ]


def _rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def measure_api(port: int, api_key: str, case: dict, *, requests: int) -> dict:
    client = Client("127.0.0.1", port, headers={"Authorization": f"Bearer {api_key}"})
    path = f"{URL}?{urlencode(case['params'])}"
    rows = 0
    for _ in range(3):  # warm the connection pool and PostgreSQL's caches
        response = client.send("GET", path)
        if response.status != 200:
            raise SystemExit(f"{case['name']}: HTTP {response.status}: {response.body[:300]!r}")
        rows = len(response.json()["rows"])
    latencies, errors = [], 0
    started = time.perf_counter()
    for _ in range(requests):
        t0 = time.perf_counter()
        response = client.send("GET", path)
        latencies.append(time.perf_counter() - t0)
        errors += response.status != 200
    summary = summarize(case["name"], latencies, errors=errors, concurrency=1,
                        seconds=time.perf_counter() - started)
    client.close()
    log("  " + summary.line() + f"  rows {rows:,}")
    return {**summary.as_dict(), "rows": rows}


def measure_csv(port: int, api_key: str, case: dict, server: Server) -> dict:
    import http.client

    pids = [p.pid for p in server._procs]
    for pid in pids:
        # Resets the peak (VmHWM) to the current size, so the peak read after the export is the export's own.
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    before = {pid: _rss_kib(pid, "VmRSS") for pid in pids}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    conn.request("GET", f"{URL}?{urlencode({**case['params'], 'format': 'csv'})}",
                 headers={"Authorization": f"Bearer {api_key}"})
    response = conn.getresponse()
    lines, size = 0, 0
    while chunk := response.read(65536):
        lines += chunk.count(b"\n")
        size += len(chunk)
    seconds = time.perf_counter() - started
    conn.close()
    peak = {pid: _rss_kib(pid, "VmHWM") for pid in pids}
    rows = lines - 1
    grown = max(peak[pid] - before[pid] for pid in pids)
    result = {"name": case["name"], "rows": rows, "bytes": size, "seconds": round(seconds, 3),
              "rows_per_s": round(rows / seconds), "rss_before_mib": round(max(before.values()) / 1024, 1),
              "peak_rss_mib": round(max(peak.values()) / 1024, 1), "peak_growth_mib": round(grown / 1024, 1)}
    log(f"  CSV {case['name']}: {rows:,} rows, {size / 1e6:.1f} MB in {seconds:.2f} s = {result['rows_per_s']:,} "
        f"rows/s; server RSS {result['rss_before_mib']} MiB before, peak {result['peak_rss_mib']} MiB "
        f"(+{result['peak_growth_mib']} MiB)")
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--db", default="helpdesk_bench_reports")
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument("--reuse", action="store_true", help="measure an existing bench database again")
    existing.add_argument("--replace", action="store_true", help="drop an existing bench database and start over")
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per case (default 100)")
    parser.add_argument("--quick", action="store_true", help="20 requests per case")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.db) or args.db in {"helpdesk", "postgres", "test"}:
        parser.error("--db must be a dedicated bench database name")
    if args.quick:
        args.requests = 20
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    if not redis_ok():
        raise SystemExit("Redis is not answering on 127.0.0.1:6379 (bash .ci/services.sh starts it).")
    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    result: dict = {"run_id": run_id, "machine": machine.describe(pg.server_version())}
    app_env = {"DATABASE_URL": pg.url(role=pg.APP_ROLE, dbname=args.db), "DB_POOL": "false"}
    try:
        if pg.database_exists(args.db):
            if args.replace:
                pg.database_drop(args.db)
            elif not args.reuse:
                raise SystemExit(f"Database {args.db} exists: pass --reuse to measure it again, or --replace.")
        if not pg.database_exists(args.db):
            log(f"Creating database {args.db}")
            pg.database_create(args.db)
        log("Migrating")
        run_python(["manage.py", "migrate", "--no-input", "-v", "0"],
                   env={"DATABASE_URL": pg.url(role=pg.OWNER_ROLE, dbname=args.db)})
        seed_env = {"DATABASE_URL": pg.url(role=pg.SUPERUSER, dbname=args.db), "DB_POOL": "false"}
        if seeded_tickets(args.db) is None:
            default_new_columns(args.db)
            log(f"Seeding {args.tickets:,} tickets (the foundation benchmark's seed)")
            seed = run_python(["-m", "bench.foundation.seed", "--tickets", str(args.tickets)], env=seed_env,
                              capture_last_json=True)
            result["seed"] = {"seconds": seed["seconds"], "rows": seed["rows"]}
        else:
            log("Reusing the seeded database")
            seed = run_python(["-m", "bench.foundation.seed", "--api-key-only"], env=seed_env,
                              capture_last_json=True)
        ratings = seed_ratings(args.db)
        log(f"  {ratings:,} ratings")
        result["ratings"] = ratings

        log("Rolling the log up from scratch (manage.py rebuild_report_rollups)")
        started = time.perf_counter()
        run_python(["manage.py", "rebuild_report_rollups", "--tenant", "bench"], env=app_env)
        result["rollup_rebuild_s"] = round(time.perf_counter() - started, 1)
        with pg.connect(role=pg.SUPERUSER, dbname=args.db) as conn:
            conn.execute("VACUUM (ANALYZE) reports_reportrollup")
            result["rollup_rows"] = dict(conn.execute(
                "SELECT grain, count(*) FROM reports_reportrollup GROUP BY grain ORDER BY grain").fetchall())
        log(f"  {result['rollup_rebuild_s']} s; rollup rows per grain {result['rollup_rows']}")

        today = datetime.now(UTC).date()
        report_cases = cases(today)
        redis_empty_bench_db()
        env = {**SERVER_ENV, "DATABASE_URL": pg.url(role=pg.APP_ROLE, dbname=args.db),
               "REPORTS_API_RATE": "1000000/min"}
        log(f"Serving with {args.processes} daphne processes")
        with Server(root=ROOT, env=env, processes=args.processes, port=0,
                    log_dir=RESULTS / "logs" / f"reports-{run_id}") as server:
            result["api"] = [measure_api(server.port, seed["api_key"], case, requests=args.requests)
                             for case in report_cases]
            largest = max(report_cases, key=lambda c: next(r["rows"] for r in result["api"]
                                                            if r["name"] == c["name"]))
            by_agent_year = {"name": "year by day, by agent", "params": {
                **report_cases[0]["params"], "group_by": "agent"}}
            result["csv"] = [measure_csv(server.port, seed["api_key"], largest, server),
                             measure_csv(server.port, seed["api_key"], by_agent_year, server)]

        log("The same reports by GROUP BY over the raw log (no rollups)")
        naive_cases = [{**c, "repeat": 1 if "year" in c["name"] else 3} for c in report_cases]
        result["naive"] = []
        naive_env = {**os.environ, **SERVER_ENV, **app_env, "DJANGO_SETTINGS_MODULE": "helpdesk.settings"}
        proc = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "bench.reports.naive",
                               json.dumps(naive_cases)], cwd=ROOT, capture_output=True, text=True, env=naive_env)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr[-2000:])
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                naive = json.loads(line)
                api = next(r for r in result["api"] if r["name"] == naive["name"])
                naive["ratio_to_api_p50"] = round(naive["seconds"] * 1000 / api["p50_ms"], 1)
                result["naive"].append(naive)
                log(f"  {naive['name']:<30} {naive['seconds'] * 1000:10.1f} ms ({naive['rows']:,} rows)  "
                    f"= {naive['ratio_to_api_p50']}x the API's p50")
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"reports-{run_id}.json"
        out.write_text(json.dumps(result, indent=2, default=str))
        log(f"Results: {out.relative_to(ROOT)}")
    finally:
        if args.drop and pg.database_exists(args.db):
            pg.database_drop(args.db)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
