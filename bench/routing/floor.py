"""What a routing decision costs PostgreSQL alone: the statements of one decision, run by pgbench itself.

    .venv/bin/python -m bench.routing.floor                      # on the database the routing bench left
    .venv/bin/python -m bench.routing.floor --seconds 30 --clients 8

Run it after ``bash bench/routing/run.sh`` (which leaves ``helpdesk_bench_routing`` behind unless ``--drop``).
It writes a pgbench script with the reads and writes ``routing.services.item_route`` makes for one chat — lock
the item, read the ticket with its customer, department and first message, the rotation lock, the settings,
the department's candidates with their running chats, ringing offers, last turn and earlier refusals, the
returning customer's last agent, lock and re-count the winner, then insert the decision (with a candidates
record of the department's size), the offer, the item's new state, the rotation stamp, the log event, the push
stream counter and the push event — and runs it as the application role (row-level security applies) with 8
clients, on random items, departments and agents of the bench tenant. There is no Python in the loop and
every statement is prepared (``-M prepared``), so this is what deciding costs the database with no
application around it: a ceiling for any design that writes what a decision writes today. Beside it,
``pgbench -b simple-update`` on a scratch database, as the routing bench runs it, and the ratio of the two.

It then runs the same statements once more as a single call of a PL/pgSQL function per decision (created for
the run and dropped after it): a decision made inside the database, with no round trip between its statements.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from pathlib import Path

from bench.common import pg
from bench.common.process import log
from bench.routing.__main__ import pgbench

DECISION_SCRIPT = """
\\set item random(:first_item, :last_item)
\\set dept random(:first_dept, :last_dept)
\\set agent random(:first_agent, :last_agent)
BEGIN;
SELECT set_config('app.tenant_id', :tenant::text, true);
SELECT ticket_id FROM routing_routingitem WHERE id = :item AND tenant_id = :tenant FOR UPDATE \\gset
SELECT t.contact_id AS contact_id, t.code AS code, t.subject AS subject, t.status AS status,
       t.department_id AS department_id, c.name AS customer, d.name AS department,
       (SELECT m.body FROM tickets_message m WHERE m.ticket_id = t.id AND m.kind = 'customer'
        ORDER BY m.created_at, m.id LIMIT 1) AS first_message
  FROM tickets_ticket t JOIN tickets_contact c ON c.id = t.contact_id
  LEFT JOIN departments_department d ON d.id = t.department_id
  WHERE t.tenant_id = :tenant AND t.id = :ticket_id \\gset
SELECT pg_advisory_xact_lock(:dept);
SELECT * FROM routing_routingsettings WHERE tenant_id = :tenant LIMIT 1;
SELECT a.id, a.display_name, a.status, a.takes_chats, a.chat_priority, a.max_chats,
       (SELECT count(*) FROM tickets_ticket t WHERE t.tenant_id = :tenant AND t.assignee_id = a.id
          AND t.channel = 'chat' AND t.status IN ('new', 'open', 'answered')),
       (SELECT count(*) FROM routing_offer o JOIN routing_routingitem i ON i.id = o.item_id
          WHERE o.tenant_id = :tenant AND o.agent_id = a.id AND o.state = 'ringing' AND i.channel = 'chat'),
       (SELECT r.last_assigned_at FROM routing_agentrotation r WHERE r.tenant_id = :tenant AND r.agent_id = a.id
          AND r.department_id_key = :dept AND r.channel = 'chat'),
       EXISTS (SELECT 1 FROM routing_offer o WHERE o.tenant_id = :tenant AND o.item_id = :item
          AND o.agent_id = a.id AND o.state IN ('declined', 'missed'))
  FROM departments_agentprofile a
  JOIN departments_departmentmember m ON m.agent_id = a.id AND m.tenant_id = :tenant AND m.department_id = :dept
  WHERE a.tenant_id = :tenant ORDER BY a.id;
SELECT t.assignee_id FROM tickets_ticket t WHERE t.tenant_id = :tenant AND t.contact_id = :contact_id
  AND t.id <> :ticket_id ORDER BY t.created_at DESC, t.id DESC LIMIT 50;
SELECT a.id,
       (SELECT count(*) FROM tickets_ticket t WHERE t.tenant_id = :tenant AND t.assignee_id = a.id
          AND t.channel = 'chat' AND t.status IN ('new', 'open', 'answered')),
       (SELECT count(*) FROM routing_offer o JOIN routing_routingitem i ON i.id = o.item_id
          WHERE o.tenant_id = :tenant AND o.agent_id = a.id AND o.state = 'ringing' AND i.channel = 'chat')
  FROM departments_agentprofile a WHERE a.tenant_id = :tenant AND a.id = :agent FOR NO KEY UPDATE OF a;
WITH decision AS (
  INSERT INTO routing_routingdecision (tenant_id, item_id, ticket_id, channel, method, department_id_at_decision,
                                       candidates, winner_ids, outcome, created_at)
  SELECT :tenant::bigint, i.id, i.ticket_id, 'chat', 'mean_utilization', :dept::bigint,
         (SELECT jsonb_agg(jsonb_build_object('agent_id', g, 'name', 'Agent ' || g, 'status', 'online', 'load', 1,
                 'max_load', 3, 'priority', 50, 'last_assigned_at', now()::text, 'result', 'lost',
                 'reason', 'not picked by mean utilization')) FROM generate_series(1, :members) g),
         jsonb_build_array(:agent::bigint), 'offered to 1 agent(s) by mean utilization', now()
    FROM routing_routingitem i WHERE i.id = :item
  RETURNING id, item_id
)
INSERT INTO routing_offer (tenant_id, item_id, agent_id, decision_id, state, created_at, expires_at)
  SELECT :tenant::bigint, item_id, :agent::bigint, id, 'withdrawn', now(), now() + interval '30 seconds' FROM decision;
UPDATE routing_routingitem SET attempts = attempts + 1, updated_at = now() WHERE id = :item;
INSERT INTO routing_agentrotation (tenant_id, agent_id, department_id_key, channel, last_assigned_at)
  VALUES (:tenant, :agent, :dept, 'chat', now()) ON CONFLICT (tenant_id, agent_id, department_id_key, channel)
  DO UPDATE SET last_assigned_at = EXCLUDED.last_assigned_at;
INSERT INTO tickets_ticketevent (tenant_id, ticket_id, kind, actor_type, actor_id, actor_label,
                                 department_id_at_event, assignee_id_at_event, channel, data, created_at)
  VALUES (:tenant, :ticket_id, 'routed', 'system', NULL, '', :dept, NULL, 'chat',
          jsonb_build_object('decision_id', 1, 'method', 'mean_utilization', 'outcome', 'offered to 1 agent(s)',
                             'offered_to', jsonb_build_array('Agent')), now());
INSERT INTO helpdesk_pushstream (tenant_id, key, last_seq) VALUES (:tenant, 'agent:' || :agent::text, 1)
  ON CONFLICT (tenant_id, key) DO UPDATE SET last_seq = helpdesk_pushstream.last_seq + EXCLUDED.last_seq
  RETURNING last_seq \\gset
INSERT INTO helpdesk_pushevent (tenant_id, stream, seq, type, payload, created_at)
  VALUES (:tenant, 'agent:' || :agent::text, :last_seq, 'offer.ringing',
          jsonb_build_object('ticket_id', :ticket_id::bigint, 'subject', 'Chat', 'channel', 'chat',
                             'first_message', 'Hello'),
          now());
COMMIT;
"""

# The same statements in one server-side call: what the database costs a decision once every round trip
# between statements is gone (a decision made inside PostgreSQL). Created by the superuser for the run, dropped
# after it; it runs as the caller, so row-level security applies as in the script above.
ONE_CALL_FUNCTION = """
CREATE OR REPLACE FUNCTION bench_floor_decide(p_tenant bigint, p_item bigint, p_dept bigint, p_agent bigint)
RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
  v_ticket bigint; v_contact bigint; v_code text; v_subject text; v_status text; v_department bigint;
  v_customer text; v_department_name text; v_first text; v_settings record; v_candidates jsonb;
  v_last bigint; v_running bigint; v_ringing bigint; v_decision bigint; v_seq bigint;
BEGIN
  PERFORM set_config('app.tenant_id', p_tenant::text, true);
  SELECT ticket_id INTO v_ticket FROM routing_routingitem WHERE id = p_item AND tenant_id = p_tenant FOR UPDATE;
  SELECT t.contact_id, t.code, t.subject, t.status, t.department_id, c.name, d.name,
         (SELECT m.body FROM tickets_message m WHERE m.ticket_id = t.id AND m.kind = 'customer'
          ORDER BY m.created_at, m.id LIMIT 1)
    INTO v_contact, v_code, v_subject, v_status, v_department, v_customer, v_department_name, v_first
    FROM tickets_ticket t JOIN tickets_contact c ON c.id = t.contact_id
    LEFT JOIN departments_department d ON d.id = t.department_id
    WHERE t.tenant_id = p_tenant AND t.id = v_ticket;
  PERFORM pg_advisory_xact_lock(p_dept);
  SELECT * INTO v_settings FROM routing_routingsettings WHERE tenant_id = p_tenant LIMIT 1;
  -- The candidates, as the decision record stores them.
  SELECT jsonb_agg(jsonb_build_object('agent_id', x.id, 'name', x.display_name, 'status', x.status,
                   'load', x.running + x.ringing, 'max_load', x.max_chats, 'priority', x.chat_priority,
                   'last_assigned_at', x.last_turn::text, 'declined_before', x.refused,
                   'result', 'lost', 'reason', 'not picked by mean utilization') ORDER BY x.id)
    INTO v_candidates
    FROM (SELECT a.id, a.display_name, a.status, a.takes_chats, a.chat_priority, a.max_chats,
                 (SELECT count(*) FROM tickets_ticket t WHERE t.tenant_id = p_tenant AND t.assignee_id = a.id
                    AND t.channel = 'chat' AND t.status IN ('new', 'open', 'answered')) AS running,
                 (SELECT count(*) FROM routing_offer o JOIN routing_routingitem i ON i.id = o.item_id
                    WHERE o.tenant_id = p_tenant AND o.agent_id = a.id AND o.state = 'ringing'
                      AND i.channel = 'chat') AS ringing,
                 (SELECT r.last_assigned_at FROM routing_agentrotation r WHERE r.tenant_id = p_tenant
                    AND r.agent_id = a.id AND r.department_id_key = p_dept AND r.channel = 'chat') AS last_turn,
                 EXISTS (SELECT 1 FROM routing_offer o WHERE o.tenant_id = p_tenant AND o.item_id = p_item
                    AND o.agent_id = a.id AND o.state IN ('declined', 'missed')) AS refused
            FROM departments_agentprofile a
            JOIN departments_departmentmember m ON m.agent_id = a.id AND m.tenant_id = p_tenant
                 AND m.department_id = p_dept
           WHERE a.tenant_id = p_tenant) x;
  SELECT r.assignee_id INTO v_last
    FROM (SELECT t.assignee_id FROM tickets_ticket t WHERE t.tenant_id = p_tenant AND t.contact_id = v_contact
            AND t.id <> v_ticket ORDER BY t.created_at DESC, t.id DESC LIMIT 50) r
   WHERE r.assignee_id IS NOT NULL LIMIT 1;
  SELECT (SELECT count(*) FROM tickets_ticket t WHERE t.tenant_id = p_tenant AND t.assignee_id = a.id
            AND t.channel = 'chat' AND t.status IN ('new', 'open', 'answered')),
         (SELECT count(*) FROM routing_offer o JOIN routing_routingitem i ON i.id = o.item_id
            WHERE o.tenant_id = p_tenant AND o.agent_id = a.id AND o.state = 'ringing' AND i.channel = 'chat')
    INTO v_running, v_ringing
    FROM departments_agentprofile a WHERE a.tenant_id = p_tenant AND a.id = p_agent FOR NO KEY UPDATE OF a;
  INSERT INTO routing_routingdecision (tenant_id, item_id, ticket_id, channel, method, department_id_at_decision,
                                       candidates, winner_ids, outcome, created_at)
    VALUES (p_tenant, p_item, v_ticket, 'chat', 'mean_utilization', p_dept, coalesce(v_candidates, '[]'),
            jsonb_build_array(p_agent), 'offered to 1 agent(s) by mean utilization', now())
    RETURNING id INTO v_decision;
  INSERT INTO routing_offer (tenant_id, item_id, agent_id, decision_id, state, created_at, expires_at)
    VALUES (p_tenant, p_item, p_agent, v_decision, 'withdrawn', now(), now() + interval '30 seconds');
  UPDATE routing_routingitem SET attempts = attempts + 1, updated_at = now() WHERE id = p_item;
  INSERT INTO routing_agentrotation (tenant_id, agent_id, department_id_key, channel, last_assigned_at)
    VALUES (p_tenant, p_agent, p_dept, 'chat', now()) ON CONFLICT (tenant_id, agent_id, department_id_key, channel)
    DO UPDATE SET last_assigned_at = EXCLUDED.last_assigned_at;
  INSERT INTO tickets_ticketevent (tenant_id, ticket_id, kind, actor_type, actor_id, actor_label,
                                   department_id_at_event, assignee_id_at_event, channel, data, created_at)
    VALUES (p_tenant, v_ticket, 'routed', 'system', NULL, '', p_dept, NULL, 'chat',
            jsonb_build_object('decision_id', v_decision, 'method', 'mean_utilization',
                               'outcome', 'offered to 1 agent(s)', 'offered_to', jsonb_build_array('Agent')), now());
  INSERT INTO helpdesk_pushstream (tenant_id, key, last_seq) VALUES (p_tenant, 'agent:' || p_agent::text, 1)
    ON CONFLICT (tenant_id, key) DO UPDATE SET last_seq = helpdesk_pushstream.last_seq + EXCLUDED.last_seq
    RETURNING last_seq INTO v_seq;
  INSERT INTO helpdesk_pushevent (tenant_id, stream, seq, type, payload, created_at)
    VALUES (p_tenant, 'agent:' || p_agent::text, v_seq, 'offer.ringing',
            jsonb_build_object('ticket_id', v_ticket, 'ticket', v_code, 'subject', v_subject, 'channel', 'chat',
                               'customer', v_customer, 'department', v_department_name,
                               'first_message', left(coalesce(v_first, ''), 300)), now());
  RETURN v_decision;
END
$fn$
"""
ONE_CALL_SCRIPT = """
\\set item random(:first_item, :last_item)
\\set dept random(:first_dept, :last_dept)
\\set agent random(:first_agent, :last_agent)
SELECT bench_floor_decide(:tenant, :item, :dept, :agent);
"""

RANGES_SQL = """
SELECT (SELECT min(id) FROM routing_routingitem WHERE tenant_id = %(t)s),
       (SELECT max(id) FROM routing_routingitem WHERE tenant_id = %(t)s),
       (SELECT min(id) FROM departments_department WHERE tenant_id = %(t)s),
       (SELECT max(id) FROM departments_department WHERE tenant_id = %(t)s),
       (SELECT min(id) FROM departments_agentprofile WHERE tenant_id = %(t)s),
       (SELECT max(id) FROM departments_agentprofile WHERE tenant_id = %(t)s),
       (SELECT round(avg(n)) FROM (SELECT count(*) AS n FROM departments_departmentmember
                                   WHERE tenant_id = %(t)s GROUP BY department_id) x)
"""


def decision_floor(*, dbname: str, clients: int, threads: int, seconds: int, one_call: bool = False) -> dict:
    """Run one decision's statements with pgbench: as separate prepared statements (what the application
    sends), or with ``one_call`` as a single call of a PL/pgSQL function holding the same statements."""
    with pg.connect(role=pg.SUPERUSER, dbname=dbname) as conn:
        row = conn.execute("SELECT min(tenant_id) FROM routing_routingitem").fetchone()
        if row is None or row[0] is None:
            raise SystemExit(f"{dbname} holds no routing bench data: run bash bench/routing/run.sh first.")
        tenant_id = row[0]
        ranges = conn.execute(RANGES_SQL, {"t": tenant_id}).fetchone()
        if one_call:
            conn.execute(ONE_CALL_FUNCTION)
    names = ("first_item", "last_item", "first_dept", "last_dept", "first_agent", "last_agent", "members")
    variables = {"tenant": tenant_id, **dict(zip(names, (int(v) for v in ranges), strict=True))}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            script = Path(scratch) / "decision.sql"
            script.write_text(ONE_CALL_SCRIPT if one_call else DECISION_SCRIPT)
            defines = [arg for name, value in variables.items() for arg in ("-D", f"{name}={value}")]
            out = subprocess.run(
                ["pgbench", "-n", "-M", "prepared", "-f", str(script), "-c", str(clients), "-j", str(threads),
                 "-T", str(seconds), "-r", *defines, "-h", pg.HOST, "-p", str(pg.PORT), "-U", pg.APP_ROLE,
                 dbname],
                check=True, capture_output=True, text=True,
            ).stdout
    finally:
        if one_call:
            with pg.connect(role=pg.SUPERUSER, dbname=dbname) as conn:
                conn.execute("DROP FUNCTION IF EXISTS bench_floor_decide(bigint, bigint, bigint, bigint)")
    tps = float(re.search(r"tps = ([0-9.]+)", out).group(1))
    latency = float(re.search(r"latency average = ([0-9.]+) ms", out).group(1))
    return {"tps": round(tps, 1), "latency_avg_ms": latency, "clients": clients, "threads": threads,
            "seconds": seconds, "one_call": one_call, "variables": variables, "pgbench_output": out}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.routing.floor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="helpdesk_bench_routing", help="the routing bench's database")
    parser.add_argument("--clients", type=int, default=8, help="pgbench clients (default 8, as the bench's workers)")
    parser.add_argument("--seconds", type=int, default=20, help="duration of each pgbench run (default 20)")
    args = parser.parse_args(argv)
    log(f"Decision statements alone: pgbench -M prepared, {args.clients} clients, {args.seconds} s, on {args.db}")
    floor = decision_floor(dbname=args.db, clients=args.clients, threads=2, seconds=args.seconds)
    log(f"  {floor['tps']:,.1f} decisions/s, latency average {floor['latency_avg_ms']} ms")
    log("  per statement (ms):")
    for line in floor["pgbench_output"].splitlines():
        if re.match(r"\s+[0-9.]+\s+\d+\s+\S", line):
            log("    " + line.strip()[:110])
    log("The same statements in one PL/pgSQL call per decision (no round trips between them)")
    one_call = decision_floor(dbname=args.db, clients=args.clients, threads=2, seconds=args.seconds, one_call=True)
    log(f"  {one_call['tps']:,.1f} decisions/s, latency average {one_call['latency_avg_ms']} ms")
    log(f"pgbench -b simple-update, {args.clients} clients, {args.seconds} s, on a scratch database")
    simple = pgbench(clients=args.clients, threads=2, seconds=args.seconds)
    log(f"  {simple['tps']:,.1f} tps")
    log(f"Ratio decision statements alone : simple-update = {floor['tps'] / simple['tps']:.3f}; "
        f"in one call: {one_call['tps'] / simple['tps']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
