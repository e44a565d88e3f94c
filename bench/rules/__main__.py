"""The rules benchmark, end to end: bench database, seed, API ticket creation with 0 and with 50 active rules,
the rule engine's cost per ticket, and dry runs over the seeded tickets.

    bash bench/rules/run.sh                   # 100,000 seeded tickets, 1,000 creations per scenario
    bash bench/rules/run.sh --tickets 10000 --requests 300    # a try-out

1. Recreates ``helpdesk_bench_rules`` (``--db``) as ``helpdesk_owner`` and migrates it as the owner.
2. Seeds one tenant (``bench.rules.work seed``, as the owner): 10 departments, 4 categories, an admin API
   key, 50 "ticket created" rules of mixed conditions (switched off), and ``--tickets`` tickets spread over
   six months for the dry runs.
3. Serves the app with one daphne process as ``helpdesk_app`` and creates tickets through
   ``POST /api/v1/tickets/`` (``--concurrency`` in flight): first with no active rule (the hook's one
   "any active rules?" query, then routing as before), then with the 50 rules on (the request also queues the
   rules task on the broker, Redis db 14, which no worker reads here).
4. Runs that rules task's work for each ticket the second load created, one after the other in one process as
   ``helpdesk_app`` (``bench.rules.work engine``): the engine (read the rules and the ticket's facts,
   evaluate 50 rules, apply the one that matches, if any, in its own transaction, log it) and the hand-off to
   routing. Timed per ticket.
5. Dry-runs two rules over the seeded tickets through the API: one the database decides (a count over the
   range), one with a pattern (checked in Python on the newest 5,000 filtered tickets).
Raw figures go to ``bench/results/rules-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bench.common import machine, pg, process
from bench.common.http import Client, Request, run_load
from bench.common.process import ROOT, log
from bench.common.server import Server

RESULTS = ROOT / "bench" / "results"
REDIS_URL = "redis://127.0.0.1:6379/14"
ENV = {
    "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
    "DEBUG": "false",
    "SECRET_KEY": "bench-secret-key-not-for-production",
    "DATABASE_APP_ROLE": pg.APP_ROLE,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "REDIS_URL": REDIS_URL,
    "LOG_LEVEL": "WARNING",
    "PYTHONDONTWRITEBYTECODE": "1",
}
WARM_UP = 50


def run_python(args: list[str], *, env: dict[str, str]) -> dict:
    return process.run_python(args, env={**ENV, **env}) or {}


def create_request(index: int, department_id: int, label: str) -> Request:
    # A quarter of the subjects name a keyword one of the 50 rules looks for (see bench.rules.work).
    keyword = f"keyword{index % 200:03d}"
    body = {
        "subject": f"Question {index} about {keyword}", "body": "Hello, the invoice for my order is wrong.",
        "channel": ["email", "api", "twitter", "contact_form"][index % 4], "department": department_id,
        "contact": {"name": f"Load {label} {index}", "email": f"load-{label.replace(' ', '-')}-{index}@example.net"},
    }
    return Request("POST", "/api/v1/tickets/", body=json.dumps(body).encode(),
                   headers={"Content-Type": "application/json"}, expect=201)


def create_load(server: Server, seeded: dict, args: argparse.Namespace, label: str, dbname: str):
    headers = {"Authorization": f"Bearer {seeded['api_key']}"}

    def make_client() -> Client:
        return Client("127.0.0.1", server.port, headers=headers)

    run_load(f"warm-up {label}", make_client=make_client, request_for=lambda i: create_request(
        i, seeded["department_id"], f"warm{label}"), requests=WARM_UP, concurrency=args.concurrency)
    others = machine.OtherCpu(dbname)
    others.start()
    summary = run_load(f"API create, {label}", make_client=make_client, request_for=lambda i: create_request(
        i, seeded["department_id"], label), requests=args.requests, concurrency=args.concurrency)
    return replace(summary, other_cpu=round(others.share(), 3))


def dry_runs(server: Server, seeded: dict, rounds: int = 5) -> dict:
    client = Client("127.0.0.1", server.port, headers={"Authorization": f"Bearer {seeded['api_key']}",
                                                       "Content-Type": "application/json"})
    now = datetime.now(UTC)
    window = {"start": (now - timedelta(days=183)).isoformat(), "end": (now + timedelta(minutes=5)).isoformat()}
    rules = {
        "database decides (channel in [twitter, facebook], priority > low)": {
            "name": "Social", "trigger": "ticket_created",
            "condition_groups": [[{"field": "channel", "operator": "in", "value": ["twitter", "facebook"]},
                                  {"field": "priority", "operator": "gt", "value": "low"}]],
            "actions": [{"type": "transfer", "value": seeded["department_id"]}, {"type": "unassign"}]},
        "pattern checked in Python (subject matches keyword01[0-9])": {
            "name": "Pattern", "trigger": "ticket_created",
            "condition_groups": [[{"field": "subject", "operator": "matches", "value": r"keyword01[0-9]\b"}]],
            "actions": [{"type": "set_priority", "value": "high"}]},
    }
    out = {}
    for label, rule in rules.items():
        body = json.dumps({**window, "rule": rule}).encode()
        times, last = [], None
        for _ in range(rounds):
            started = time.perf_counter()
            response = client.send("POST", "/api/v1/rules/dry-run/", body=body)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status == 200, response.body[:300]
            last = response.json()
        out[label] = {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1),
                      "matched": last["matched"], "complete": last["complete"], "scanned": last["scanned"]}
    client.close()
    return out


def last_ticket_id(dbname: str, tenant_id: int) -> int:
    with pg.connect(role=pg.SUPERUSER, dbname=dbname) as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM tickets_ticket WHERE tenant_id = %s",
                            [tenant_id]).fetchone()[0]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets seeded for the dry runs")
    parser.add_argument("--requests", type=int, default=1000, help="tickets created through the API per load")
    parser.add_argument("--concurrency", type=int, default=4, help="API requests in flight")
    parser.add_argument("--db", default="helpdesk_bench_rules", help="bench database (dropped and recreated)")
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    owner_env = process.database_fresh(args.db, env=ENV)
    app_env = {"DATABASE_URL": pg.url(role=pg.APP_ROLE, dbname=args.db)}
    log(f"Seeding: 50 rules, {args.tickets:,} tickets")
    seeded = run_python(["-m", "bench.rules.work", "seed", "--tickets", str(args.tickets)], env=owner_env)
    busy_before = machine.cpu_busy(3.0)
    log(f"Machine busy before the loads: {busy_before:.0%} of all cores")
    with Server(root=ROOT, env={**ENV, **app_env}, processes=1, port=0, log_dir=RESULTS / "logs" / "rules") as server:
        without = create_load(server, seeded, args, "0 rules", args.db)
        log("  " + without.line())
        run_python(["-m", "bench.rules.work", "switch", "--on"], env=owner_env)
        marker = last_ticket_id(args.db, seeded["tenant_id"])
        with_rules = create_load(server, seeded, args, "50 rules", args.db)
        log("  " + with_rules.line())
        log("Dry runs over the seeded tickets (5 each, through the API)")
        dry = dry_runs(server, seeded)
        for label, figures in dry.items():
            log(f"  {label}: median {figures['median_ms']} ms, max {figures['max_ms']} ms, matched "
                f"{figures['matched']:,}{'' if figures['complete'] else ' (at least)'}")
    log("Rule engine per ticket (the rules task's work for each ticket of the 50-rule load)")
    others = machine.OtherCpu(args.db)
    others.start()
    engine = run_python(["-m", "bench.rules.work", "engine", "--after", str(marker)], env=app_env)
    engine["other_cpu"] = round(others.share(), 3)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # the rules tasks nobody ran
    if args.drop:
        pg.database_drop(args.db)

    about = machine.describe(pg.server_version())
    result = {"machine": about, "busy_before": round(busy_before, 3), "seeded": {k: v for k, v in seeded.items()
                                                                                 if k != "api_key"},
              "create_0_rules": without.as_dict(), "create_50_rules": with_rules.as_dict(), "engine": engine,
              "dry_runs": dry, "total_seconds": round(time.perf_counter() - started, 1),
              "goals": {"rules_under_5ms_per_ticket_p50": engine["none_fired"]["p50_ms"] < 5}}
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    (RESULTS / f"rules-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))
    log()
    log(f"Machine: {about['cpu_model']}, {about['cpus']} cores, {about['memory_gib']} GiB, PostgreSQL "
        f"{about['postgresql']}, {about['date']}; busy {busy_before:.0%} before the loads")
    log(f"API create, 0 rules : {without.rps} req/s, p50 {without.p50_ms} ms, p99 {without.p99_ms} ms "
        f"(others' CPU {without.other_cpu:.0%})")
    log(f"API create, 50 rules: {with_rules.rps} req/s, p50 {with_rules.p50_ms} ms, p99 {with_rules.p99_ms} ms "
        f"(others' CPU {with_rules.other_cpu:.0%})")
    e = engine
    log(f"Engine per ticket ({e['tickets']} tickets, {e['rules']} rules, {e['rules_fired']} firings): "
        f"p50 {e['all']['p50_ms']} ms, p99 {e['all']['p99_ms']} ms; none fired p50 {e['none_fired']['p50_ms']} ms "
        f"p99 {e['none_fired']['p99_ms']} ms; one fired p50 {e['one_or_more_fired']['p50_ms']} ms p99 "
        f"{e['one_or_more_fired']['p99_ms']} ms; conditions alone {e['pure_evaluation_us_per_ticket']} µs; "
        f"then routing hand-off p50 {e['routing_handoff']['p50_ms']} ms")
    log(f"Total {result['total_seconds']} s; raw figures in bench/results/rules-{stamp}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
