"""The routing benchmark, end to end: bench database, seed, route with concurrent workers, check, compare.

    bash bench/routing/run.sh                      # 100,000 chats, 8 workers, 1,000 agents in 20 departments
    bash bench/routing/run.sh --items 5000         # a try-out

1. Creates ``helpdesk_bench_routing`` (``--db``) as ``helpdesk_owner`` and migrates it as the owner; an
   existing database of that name is dropped first (it holds nothing but a previous run).
2. Seeds one tenant (``bench.routing.seed``): online agents, each taking up to ``--max-chats`` chats, in
   departments, and the chats waiting in the routing queue.
3. Starts ``--workers`` processes (``bench.routing.worker``), each with its own connection as
   ``helpdesk_app``; they route the queued chats (each worker every n-th item), accept the offers and end
   chats so that about ``--utilization`` of all chat slots stay busy. Meanwhile a monitor reads every
   agent's load once a second, in one snapshot, and counts agents above their ``max_chats``.
4. Checks the invariants in the database: double assignments, agents over capacity, lost items.
5. Runs ``pgbench -b simple-update`` (``-c 8 -j 2``) on a scratch database of the same server and prints the
   ratio of decisions per second to its transactions per second.
6. Runs one decision's statements in pgbench alone on the bench database (``bench.routing.floor``: no
   Python, prepared, 8 clients), then the same statements as one PL/pgSQL call per decision, and prints what
   they give beside simple-update: the database's share of the goal, whatever the application around it.
   Also printed: the ceiling, the decisions per second the workers could reach if deciding took no time, given
   the accepts and ends they also performed.
Raw figures go to ``bench/results/routing-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

from bench.common import machine, pg, process
from bench.common.process import ROOT, log
from bench.common.stats import percentile

RESULTS = ROOT / "bench" / "results"
PGBENCH_DB = "helpdesk_bench_pgbench"
ENV = {
    "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
    "DEBUG": "false",
    "SECRET_KEY": "bench-secret-key-not-for-production",
    "DATABASE_APP_ROLE": pg.APP_ROLE,
    # Offers are pushed to agents through the Redis channel layer, as in production (db 13: nothing else there).
    "REDIS_URL": "redis://127.0.0.1:6379/13",
    "LOG_LEVEL": "WARNING",
    "PYTHONDONTWRITEBYTECODE": "1",
}
# Per agent: running chats plus ringing offers, against max_chats, in one snapshot.
LOADS_SQL = """
WITH running AS (
    SELECT assignee_id AS agent_id, count(*) AS n FROM tickets_ticket
    WHERE tenant_id = %(t)s AND channel = 'chat' AND status IN ('new', 'open', 'answered')
      AND assignee_id IS NOT NULL GROUP BY 1
), ringing AS (
    SELECT o.agent_id, count(*) AS n FROM routing_offer o JOIN routing_routingitem i ON i.id = o.item_id
    WHERE o.tenant_id = %(t)s AND o.state = 'ringing' AND i.channel = 'chat' GROUP BY 1
)
SELECT count(*) FILTER (WHERE coalesce(r.n, 0) + coalesce(g.n, 0) > a.max_chats),
       coalesce(max(coalesce(r.n, 0) + coalesce(g.n, 0)), 0),
       coalesce(sum(coalesce(r.n, 0)), 0)::int
FROM departments_agentprofile a
LEFT JOIN running r ON r.agent_id = a.id LEFT JOIN ringing g ON g.agent_id = a.id
WHERE a.tenant_id = %(t)s
"""
INVARIANTS_SQL = {
    # Items with more than one accepted offer: two agents were given the same chat.
    "double_assignments": """
        SELECT count(*) FROM (SELECT item_id FROM routing_offer WHERE tenant_id = %(t)s AND state = 'accepted'
                              GROUP BY item_id HAVING count(*) > 1) x""",
    # Chats whose assignee is not the agent whose offer was accepted.
    "assignee_mismatches": """
        SELECT count(*) FROM routing_offer o JOIN routing_routingitem i ON i.id = o.item_id
        JOIN tickets_ticket t ON t.id = i.ticket_id
        WHERE o.tenant_id = %(t)s AND o.state = 'accepted' AND t.assignee_id IS DISTINCT FROM o.agent_id""",
    # Items that never reached an agent.
    "lost_items": """
        SELECT count(*) FROM routing_routingitem i JOIN tickets_ticket t ON t.id = i.ticket_id
        WHERE i.tenant_id = %(t)s AND (i.state <> 'assigned' OR t.assignee_id IS NULL)""",
    "offers_still_ringing": "SELECT count(*) FROM routing_offer WHERE tenant_id = %(t)s AND state = 'ringing'",
}


def run_python(args: list[str], *, env: dict[str, str]) -> dict | None:
    return process.run_python(args, env={**ENV, **env})


class LoadMonitor(threading.Thread):
    """Reads every agent's load once a second while the workers run; remembers the worst moment."""

    def __init__(self, dbname: str, tenant_id: int, interval: float = 1.0):
        super().__init__(daemon=True)
        self.dbname, self.tenant_id, self.interval = dbname, tenant_id, interval
        self.stop = threading.Event()
        self.samples = 0
        self.samples_over = 0
        self.agents_over_max = 0
        self.max_load = 0
        self.running_max = 0

    def run(self) -> None:
        with pg.connect(role=pg.SUPERUSER, dbname=self.dbname) as conn:
            while not self.stop.wait(self.interval):
                over, max_load, running = conn.execute(LOADS_SQL, {"t": self.tenant_id}).fetchone()
                self.samples += 1
                self.samples_over += 1 if over else 0
                self.agents_over_max = max(self.agents_over_max, over)
                self.max_load = max(self.max_load, max_load)
                self.running_max = max(self.running_max, running)


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def route(args: argparse.Namespace, seeded: dict) -> dict:
    tenant_id = seeded["tenant_id"]
    item_ids = list(range(seeded["first_item"], seeded["last_item"] + 1))
    capacity = seeded["agents"] * args.max_chats
    keep = max(1, int(capacity * args.utilization / args.workers))
    config = {"tenant_id": tenant_id, "keep_running": keep,
              "env": {**ENV, "DATABASE_URL": pg.url(role=pg.APP_ROLE, dbname=args.db)}}
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(args.workers + 1)
    results = ctx.Queue()
    from bench.routing import worker

    procs = [ctx.Process(target=worker.run, args=(i, item_ids[i::args.workers], config, start, results))
             for i in range(args.workers)]
    for p in procs:
        p.start()
    monitor = LoadMonitor(args.db, tenant_id)
    start.wait(timeout=300)
    load_at_start = load_average()
    monitor.start()
    log(f"Routing {len(item_ids)} chats with {args.workers} workers (each keeps up to {keep} chats running; "
        f"{capacity} slots in all); load average at start {load_at_start}")
    outcomes = [results.get() for _ in procs]
    monitor.stop.set()
    monitor.join()
    for p in procs:
        p.join()
    errors = [o["error"] for o in outcomes if "error" in o]
    if errors:
        raise SystemExit("A worker failed:\n" + "\n".join(errors))
    seconds = max(o["finished"] for o in outcomes) - min(o["started"] for o in outcomes)
    latencies = sorted(v * 1000 for o in outcomes for v in o["latencies"])
    counts: dict[str, int] = {}
    spent: dict[str, float] = {}
    published: dict[str, int] = {}
    for o in outcomes:
        for key, value in o["counts"].items():
            if isinstance(value, int):
                counts[key] = counts.get(key, 0) + value
        for key, value in o["spent"].items():
            spent[key] = spent.get(key, 0.0) + value
        for key, value in o["published"].items():
            published[key] = published.get(key, 0) + value
    decisions = len(latencies)
    # The chats' accepts and ends share the wall time with the decisions (the issue's accept/end cycles), so even
    # decisions that took no time could not go faster than the workers get through those. Reading the load back
    # after each accept is the bench's own check and is left out.
    cycle_seconds = (spent.get(worker.ACCEPT, 0.0) + spent.get(worker.END, 0.0)) / args.workers
    return {
        "items": len(item_ids), "workers": args.workers, "seconds": round(seconds, 2),
        "decisions": decisions, "decisions_per_s": round(decisions / seconds, 1),
        "items_per_s": round(counts["accepted"] / seconds, 1),
        "ceiling_per_s": round(decisions / cycle_seconds, 1) if cycle_seconds else None,
        "p50_ms": round(percentile(latencies, 0.50), 2), "p90_ms": round(percentile(latencies, 0.90), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2), "max_ms": round(latencies[-1], 2) if latencies else 0.0,
        "counts": counts, "published": published,
        "worker_seconds": {k: round(v, 1) for k, v in spent.items()},
        "accept_errors": [e for o in outcomes for e in o["counts"].get("accept_errors", [])][:10],
        "still_waiting": sum(len(o["still_waiting"]) for o in outcomes),
        "keep_running_per_worker": keep, "capacity": capacity,
        "monitor": {"samples": monitor.samples, "samples_with_agent_over_max": monitor.samples_over,
                    "most_agents_over_max": monitor.agents_over_max, "highest_load": monitor.max_load,
                    "most_running_chats": monitor.running_max},
        "load_average_at_start": load_at_start, "load_average_at_end": load_average(),
    }


def invariants(dbname: str, tenant_id: int) -> dict[str, int]:
    with pg.connect(role=pg.SUPERUSER, dbname=dbname) as conn:
        found = {name: conn.execute(query, {"t": tenant_id}).fetchone()[0] for name, query in INVARIANTS_SQL.items()}
        found["agents_over_capacity_at_end"] = conn.execute(LOADS_SQL, {"t": tenant_id}).fetchone()[0]
        found["decision_rows"] = conn.execute(
            "SELECT count(*) FROM routing_routingdecision WHERE tenant_id = %s", [tenant_id]).fetchone()[0]
        found["decision_table_mb"] = conn.execute(
            "SELECT pg_total_relation_size('routing_routingdecision') / 1048576").fetchone()[0]
    return found


def pgbench(*, clients: int, threads: int, seconds: int) -> dict:
    pg.database_drop(PGBENCH_DB)
    pg.database_create(PGBENCH_DB)
    try:
        common = ["-h", pg.HOST, "-p", str(pg.PORT), "-U", pg.OWNER_ROLE]
        subprocess.run(["pgbench", "-i", "-q", *common, PGBENCH_DB], check=True, capture_output=True)
        out = subprocess.run(["pgbench", "-b", "simple-update", "-c", str(clients), "-j", str(threads),
                              "-T", str(seconds), *common, PGBENCH_DB], check=True, capture_output=True,
                             text=True).stdout
    finally:
        pg.database_drop(PGBENCH_DB)
    tps = float(re.search(r"tps = ([0-9.]+)", out).group(1))
    latency = re.search(r"latency average = ([0-9.]+) ms", out)
    return {"tps": round(tps, 1), "latency_avg_ms": float(latency.group(1)) if latency else None,
            "clients": clients, "threads": threads, "seconds": seconds}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.routing", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000, help="chats to route (default 100,000)")
    parser.add_argument("--workers", type=int, default=8, help="routing worker processes (default 8)")
    parser.add_argument("--agents", type=int, default=1000, help="online agents (default 1,000)")
    parser.add_argument("--departments", type=int, default=20, help="departments (default 20)")
    parser.add_argument("--max-chats", type=int, default=3, help="chats each agent takes at once (default 3)")
    parser.add_argument("--utilization", type=float, default=0.6,
                        help="share of all chat slots kept busy by the accept/end cycle (default 0.6)")
    parser.add_argument("--db", default="helpdesk_bench_routing", help="bench database (dropped and recreated)")
    parser.add_argument("--pgbench-seconds", type=int, default=20, help="pgbench duration (default 20)")
    parser.add_argument("--no-pgbench", action="store_true", help="skip the pgbench comparison")
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    owner_env = process.database_fresh(args.db, env=ENV)
    seeded = run_python(["-m", "bench.routing.seed", "--items", str(args.items), "--agents", str(args.agents),
                         "--departments", str(args.departments), "--max-chats", str(args.max_chats)], env=owner_env)
    assert seeded is not None
    routed = route(args, seeded)
    found = invariants(args.db, seeded["tenant_id"])
    bench = None
    if not args.no_pgbench:
        log(f"pgbench -b simple-update -c 8 -j 2 -T {args.pgbench_seconds} on a scratch database")
        bench = pgbench(clients=8, threads=2, seconds=args.pgbench_seconds)
    floor = None
    if not args.no_pgbench:
        from bench.routing.floor import decision_floor

        log(f"One decision's statements alone: pgbench -M prepared, 8 clients, {args.pgbench_seconds} s, on {args.db}")
        try:
            floor = decision_floor(dbname=args.db, clients=8, threads=2, seconds=args.pgbench_seconds)
            log("The same statements in one PL/pgSQL call per decision")
            floor["one_call"] = decision_floor(dbname=args.db, clients=8, threads=2, seconds=args.pgbench_seconds,
                                               one_call=True)
        except subprocess.CalledProcessError as exc:  # the routing figures above must still be written
            log(f"  the decision statements did not run: {(exc.stderr or '').strip()[:500]}")
    if args.drop:
        pg.database_drop(args.db)

    about = machine.describe(pg.server_version())
    ratio = round(routed["decisions_per_s"] / bench["tps"], 3) if bench else None
    violations = (found["double_assignments"] + found["assignee_mismatches"] + routed["counts"]["over_capacity"]
                  + routed["monitor"]["samples_with_agent_over_max"] + found["agents_over_capacity_at_end"]
                  + found["lost_items"])
    result = {"machine": about, "seeded": seeded, "routing": routed, "invariants": found, "pgbench": bench,
              "ratio": ratio, "decision_statements_alone": floor, "goals": {"p99_under_10ms": routed["p99_ms"] < 10,
                                        "ratio_at_least_0.4": ratio is not None and ratio >= 0.4,
                                        "invariants_zero": violations == 0},
              "total_seconds": round(time.perf_counter() - started, 1)}
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    (RESULTS / f"routing-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))

    c = routed["counts"]
    log()
    log(f"Machine: {about['cpu_model']}, {about['cpus']} cores, {about['memory_gib']} GiB, "
        f"PostgreSQL {about['postgresql']}, {about['date']}; load average {routed['load_average_at_start']} "
        f"at start, {routed['load_average_at_end']} at end")
    log(f"Routed {routed['items']} chats: {seeded['agents']} online agents (max {args.max_chats} chats) in "
        f"{seeded['departments']} departments, {args.workers} workers, {routed['seconds']} s")
    log(f"  decisions          {routed['decisions']} ({c['offered']} offered, {c['no_agent']} no free agent: "
        f"routed again later)")
    log(f"  decisions/s        {routed['decisions_per_s']}   (chats assigned/s {routed['items_per_s']})")
    log(f"  decision latency   p50 {routed['p50_ms']} ms   p90 {routed['p90_ms']} ms   p99 {routed['p99_ms']} ms   "
        f"max {routed['max_ms']} ms")
    log(f"  worker time        {routed['worker_seconds']} (seconds summed over workers)")
    log(f"  ceiling            {routed['ceiling_per_s']} decisions/s if deciding took no time (the accepts and "
        f"ends alone, as measured, spread over the {args.workers} workers)")
    log("Invariants (all must be 0):")
    log(f"  double assignments           {found['double_assignments']} "
        f"(assignee differs from accepted offer: {found['assignee_mismatches']})")
    log(f"  over capacity                {c['over_capacity']} seen after accepts, "
        f"{routed['monitor']['samples_with_agent_over_max']} of {routed['monitor']['samples']} monitor snapshots, "
        f"{found['agents_over_capacity_at_end']} at the end (highest load seen {routed['monitor']['highest_load']})")
    log(f"  lost items                   {found['lost_items']} (offers still ringing {found['offers_still_ringing']}, "
        f"accept conflicts {c['accept_conflicts']})")
    if bench:
        log(f"pgbench simple-update: {bench['tps']} tps (8 clients, 2 threads, {bench['seconds']} s)")
        log(f"Ratio decisions/s : pgbench tps = {ratio}")
    if floor and bench:
        log(f"One decision's statements run by pgbench alone (no Python): {floor['tps']} decisions/s, "
            f"ratio {floor['tps'] / bench['tps']:.3f} to simple-update; this run reached "
            f"{routed['decisions_per_s'] / floor['tps']:.3f} of it")
        if floor.get("one_call"):
            log(f"The same statements in one PL/pgSQL call per decision: {floor['one_call']['tps']} decisions/s, "
                f"ratio {floor['one_call']['tps'] / bench['tps']:.3f} to simple-update")
    if bench and routed["ceiling_per_s"]:
        log(f"Ratio of the ceiling (deciding free) : pgbench tps = {routed['ceiling_per_s'] / bench['tps']:.3f}")
    log(f"Goals: p99 < 10 ms: {'met' if result['goals']['p99_under_10ms'] else 'MISSED'}; "
        f"ratio >= 0.4: {'met' if result['goals']['ratio_at_least_0.4'] else 'MISSED'}; "
        f"invariants: {'all 0' if violations == 0 else 'VIOLATED'}")
    log(f"Raw figures: bench/results/routing-{stamp}.json; total time {result['total_seconds']} s")
    return 0 if violations == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
