"""The push benchmark, end to end: offer latency from routing's commit to 1,000 agents' sockets on one daphne
process, delivered and lost counts, and a plain websockets echo server measured in the same run.

    bash bench/push/run.sh                    # 1,000 agent sockets, 2,000 offers
    bash bench/push/run.sh --offers 300       # a try-out

1. Recreates ``helpdesk_bench_push`` (``--db``) as ``helpdesk_owner``, migrates it as the owner, and seeds it
   (``bench.push.seed``): one tenant, ``--agents`` online agents in 20 departments, ``--offers`` queued chats,
   and one signed-in session per agent written in bulk to ``django_session``.
2. Serves the app with one daphne process as ``helpdesk_app`` (row-level security applies), the connection
   pool on and the Redis channel layer on database 13 (emptied first).
3. The client process (``bench.push.client push``) opens one socket per agent with the agent's session cookie
   and waits until all have said hello.
4. The driver process (``bench.push.driver``) routes the queued chats one after another through
   ``routing.services.item_route`` and notes each decision's commit time; the client notes when each offer
   arrives. Latency is arrival minus commit, per offer id, on the same machine clock. After the driver, the
   client waits for the rest, then syncs every socket: offers only the sync brings were lost live and
   recovered; offers that never arrive are lost.
5. Stops daphne and runs a plain ``websockets`` echo server (``bench.push.echo``) with the same number of
   sockets and the offers' median frame size: one message at a time, round-robin, round trip timed.
Raw figures go to ``bench/results/push-<time>.json``; server logs to ``bench/results/logs/push/``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

import redis

from bench.common import machine, pg, process
from bench.common.process import PYTHON, ROOT, log
from bench.common.server import Server
from bench.common.stats import percentile

RESULTS = ROOT / "bench" / "results"
REDIS_URL = "redis://127.0.0.1:6379/13"
ENV = {
    "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
    "DEBUG": "false",
    "SECRET_KEY": "bench-secret-key-not-for-production",  # the sessions' auth hashes are made with it
    "DATABASE_APP_ROLE": pg.APP_ROLE,
    "REDIS_URL": REDIS_URL,
    "ALLOWED_HOSTS": "127.0.0.1",
    "LOG_LEVEL": "WARNING",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def run_python(args: list[str], *, env: dict[str, str]) -> dict | None:
    return process.run_python(args, env={**ENV, **env})


def start_python(args: list[str], *, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([PYTHON, *args], cwd=ROOT, env={**os.environ, **ENV, **(env or {})},
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def read_line(proc: subprocess.Popen, prefix: str) -> str:
    """The child's next line starting with ``prefix``; other lines are shown; fails if the child exits."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(prefix):
            return line[len(prefix):].strip()
        print("    " + line.rstrip(), flush=True)
    raise SystemExit(f"{proc.args[1:3]} exited with {proc.wait()} before saying {prefix.strip()}")


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def ms_summary(values_ms: list[float]) -> dict:
    values = sorted(values_ms)
    return {"count": len(values), "p50_ms": round(percentile(values, 0.50), 2),
            "p90_ms": round(percentile(values, 0.90), 2), "p99_ms": round(percentile(values, 0.99), 2),
            "max_ms": round(values[-1], 2) if values else 0.0}


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def measure_push(args: argparse.Namespace, seeded: dict, work: Path) -> dict:
    flusher = redis.Redis.from_url(REDIS_URL)
    flusher.flushdb()  # nothing of an earlier run: no groups, no stale messages
    flusher.close()
    server_env = {"DATABASE_URL": pg.url(role=pg.APP_ROLE, dbname=args.db), "DB_POOL": "true", **ENV}
    client = None
    with Server(root=ROOT, env=server_env, processes=1, port=0, log_dir=RESULTS / "logs" / "push") as server:
        try:
            client = start_python(["-m", "bench.push.client", "push", "--url",
                                   f"ws://127.0.0.1:{server.port}/ws/agent/", "--sessions",
                                   seeded["sessions_file"], "--out", str(work / "receipts.json")])
            log(f"Connecting {seeded['sessions']} agent sockets to one daphne process")
            ready = json.loads(read_line(client, "READY "))
            log(f"  {ready['connected']} connected in {ready['connect_seconds']} s ({ready['failed']} failed"
                + (f"; first: {ready['first_failure']}" if ready["first_failure"] else "") + ")")
            busy_before = machine.cpu_busy(2.0)
            others = machine.OtherCpu(args.db)
            others.start()
            load_at_start = load_average()
            log(f"Routing {args.offers} chats one after another (machine busy before: {busy_before:.0%}, "
                f"load average {load_at_start})")
            routed = run_python(["-m", "bench.push.driver", "--tenant", str(seeded["tenant_id"]),
                                 "--first", str(seeded["first_item"]), "--last", str(seeded["last_item"]),
                                 "--interval", str(args.interval), "--out", str(work / "commits.json")],
                                env={"DATABASE_URL": pg.url(role=pg.APP_ROLE, dbname=args.db)})
            other_cpu = others.share()
            assert client.stdin is not None
            client.stdin.write(f"EXPECT {routed['offer_count']}\n")
            client.stdin.flush()
            read_line(client, "DONE")
            client.wait(timeout=30)
        finally:
            stop(client)
    commits = json.loads((work / "commits.json").read_text())
    receipts = json.loads((work / "receipts.json").read_text())
    offers = commits["offers"]
    got = receipts["receipts"]
    # In commit order, so a slow stretch shows as a run of neighbours in the raw figures.
    ordered = sorted(offers.items(), key=lambda oc: oc[1]["committed_at"])
    series = [[int(o), round((got[o]["at"] - c["committed_at"]) * 1000, 2)] for o, c in ordered
              if o in got and got[o]["live"]]
    latencies = [ms for _, ms in series]
    wrong_agent = sum(1 for o, c in offers.items() if o in got and got[o]["agent_id"] != c["agent_id"])
    lost = [o for o in offers if o not in got]
    return {
        "connected": ready["connected"], "connect_failed": ready["failed"], "connect_seconds": ready["connect_seconds"],
        "open_at_end": receipts["open_at_end"],
        "offers": len(offers), "decisions": commits["decisions"], "unrouted": commits["unrouted"],
        "routing_seconds": commits["seconds"],
        "offers_per_s": round(len(offers) / commits["seconds"], 1) if commits["seconds"] else 0.0,
        "delivered_live": sum(1 for o in offers if o in got and got[o]["live"]),
        "recovered_by_sync": sum(1 for o in offers if o in got and not got[o]["live"]),
        "lost": len(lost), "lost_offer_ids": lost[:20], "wrong_agent": wrong_agent,
        "unexpected": sum(1 for o in got if o not in offers),
        "duplicate_offers": receipts["duplicate_offers"], "repeated_seqs": receipts["repeated_seqs"],
        "gaps_seen": receipts["gaps_seen"],
        "frame_bytes_median": int(median(g["bytes"] for g in got.values())) if got else 0,
        "latency": ms_summary(latencies),
        "commit_to_sent": ms_summary(commits["sent_ms"]),
        "latency_by_offer": series,
        "busy_before": round(busy_before, 3), "other_cpu": round(other_cpu, 3),
        "load_average_at_start": load_at_start, "load_average_at_end": load_average(),
    }


def measure_echo(args: argparse.Namespace, connections: int, size: int, work: Path) -> dict:
    server = client = None
    try:
        server = start_python(["-m", "bench.push.echo"])
        port = int(read_line(server, "READY "))
        log(f"Echo: {connections} sockets to a plain websockets server, {args.offers} round trips of {size} bytes")
        client = start_python(["-m", "bench.push.client", "echo", "--url", f"ws://127.0.0.1:{port}/",
                               "--connections", str(connections), "--messages", str(args.offers), "--size",
                               str(size), "--out", str(work / "echo.json")])
        read_line(client, "DONE")
        client.wait(timeout=30)
    finally:
        stop(client)
        stop(server)
    echo = json.loads((work / "echo.json").read_text())
    return {"connections": echo["connections"], "messages": echo["messages"], "bytes": echo["bytes"],
            "seconds": echo["seconds"], "rtt": ms_summary([v * 1000 for v in echo["rtts"]])}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.push", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=1000, help="online agents, one socket each (default 1,000)")
    parser.add_argument("--offers", type=int, default=2000, help="chats routed, one offer each (default 2,000)")
    parser.add_argument("--interval", type=float, default=0.0,
                        help="pause between routing decisions in seconds (default 0: back to back)")
    parser.add_argument("--db", default="helpdesk_bench_push", help="bench database (dropped and recreated)")
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    owner_env = process.database_fresh(args.db, env=ENV)
    with tempfile.TemporaryDirectory(prefix="bench-push-") as tmp:
        work = Path(tmp)
        seeded = run_python(["-m", "bench.push.seed", "--agents", str(args.agents), "--items", str(args.offers),
                             "--sessions", str(work / "sessions.json")], env=owner_env)
        assert seeded is not None
        pushed = measure_push(args, seeded, work)
        echo = measure_echo(args, pushed["connected"], pushed["frame_bytes_median"] or 450, work)
    if args.drop:
        pg.database_drop(args.db)

    about = machine.describe(pg.server_version())
    ratio = round(pushed["latency"]["p99_ms"] / echo["rtt"]["p99_ms"], 1) if echo["rtt"]["p99_ms"] else None
    flawless = (pushed["lost"] == 0 and pushed["wrong_agent"] == 0 and pushed["unexpected"] == 0
                and pushed["duplicate_offers"] == 0 and pushed["repeated_seqs"] == 0
                and pushed["connected"] == args.agents)
    result = {"machine": about, "seeded": {k: v for k, v in seeded.items() if k != "sessions_file"},
              "push": pushed, "echo": echo, "ratio_p99": ratio,
              "goals": {"p99_under_100ms": pushed["latency"]["p99_ms"] < 100, "nothing_lost": flawless},
              "total_seconds": round(time.perf_counter() - started, 1)}
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    (RESULTS / f"push-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))

    lat, rtt = pushed["latency"], echo["rtt"]
    log()
    log(f"Machine: {about['cpu_model']}, {about['cpus']} cores, {about['memory_gib']} GiB, "
        f"PostgreSQL {about['postgresql']}, {about['date']}; busy {pushed['busy_before']:.0%} just before, "
        f"others' CPU {pushed['other_cpu']:.0%} during the offers; load average {pushed['load_average_at_start']} "
        f"at start, {pushed['load_average_at_end']} at end")
    log(f"Push: {pushed['connected']} agent sockets on 1 daphne process ({pushed['open_at_end']} open at the end), "
        f"{pushed['offers']} offers routed in {pushed['routing_seconds']} s ({pushed['offers_per_s']}/s)")
    log(f"  offer latency, commit -> socket   p50 {lat['p50_ms']} ms   p90 {lat['p90_ms']} ms   "
        f"p99 {lat['p99_ms']} ms   max {lat['max_ms']} ms   (n={lat['count']})")
    sent = pushed["commit_to_sent"]
    log(f"  of which commit -> handed to the layer (in the routing process)   p50 {sent['p50_ms']} ms   "
        f"p99 {sent['p99_ms']} ms   max {sent['max_ms']} ms")
    log(f"  delivered live     {pushed['delivered_live']}/{pushed['offers']}   recovered by sync "
        f"{pushed['recovered_by_sync']}   lost {pushed['lost']}")
    log(f"  wrong agent {pushed['wrong_agent']}   unexpected {pushed['unexpected']}   duplicates "
        f"{pushed['duplicate_offers']}   seqs sent twice on a socket {pushed['repeated_seqs']}   "
        f"gaps filled {pushed['gaps_seen']}")
    log(f"Echo: {echo['connections']} sockets, {echo['messages']} round trips of {echo['bytes']} bytes: "
        f"p50 {rtt['p50_ms']} ms   p99 {rtt['p99_ms']} ms   max {rtt['max_ms']} ms")
    log(f"Ratio of p99s, push : echo = {ratio}")
    log(f"Goals: p99 < 100 ms: {'met' if result['goals']['p99_under_100ms'] else 'MISSED'}; "
        f"0 lost: {'met' if flawless else 'MISSED'}")
    log(f"Raw figures: bench/results/push-{stamp}.json; total time {result['total_seconds']} s")
    return 0 if flawless else 1


if __name__ == "__main__":
    sys.exit(main())
