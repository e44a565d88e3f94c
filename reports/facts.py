"""The one definition of every report figure, as SQL over the raw tables.

A *fact* is one row per counted item (a ticket created, a reply, a call ended, a rating, ...) with its moment,
its department, agent and channel, its ticket, and the sums it adds to (see METRICS). Rollups are these facts
summed per bucket; the not-yet-rolled-up tail and the drill-down read the facts themselves. Because all three
read this one query, a figure, its rollup and the tickets behind it cannot disagree. docs/reports.md says the
same in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from reports.models import METRICS

Ranges = Sequence[tuple[datetime, datetime]]

# The log's kinds any figure reads; the rest of the log (notes, offers, tags, ...) is skipped by the index.
KINDS = ("created", "status_changed", "agent_reply", "customer_message", "assigned", "chat_started",
         "chat_ended", "call_ended", "call_missed")

# Event facts in two layers: the inner one computes each event's durations once (scalar subqueries inside
# CASE run only for the events they concern), the outer one turns them into counts and sums.
_EVENT_INNER = """
SELECT e.created_at AS at, e.ticket_id, e.kind, e.channel, e.data,
  COALESCE(e.department_id_at_event, 0) AS department_id,
  -- A reply counts for the agent who wrote it; everything else for the ticket's assignee at the time.
  COALESCE(CASE WHEN e.kind = 'agent_reply' AND e.actor_type = 'agent' THEN e.actor_id END,
           e.assignee_id_at_event, 0) AS agent_id,
  CASE WHEN e.kind = 'agent_reply' AND NOT EXISTS (
      SELECT 1 FROM tickets_ticketevent p WHERE p.tenant_id = e.tenant_id AND p.ticket_id = e.ticket_id
        AND p.kind = 'agent_reply' AND p.id < e.id)
    THEN (SELECT floor(extract(epoch FROM e.created_at - c.created_at) * 1000)::bigint
          FROM tickets_ticketevent c WHERE c.tenant_id = e.tenant_id AND c.ticket_id = e.ticket_id
            AND c.kind = 'created' ORDER BY c.id LIMIT 1)
  END AS first_response_ms,
  CASE WHEN e.kind = 'agent_reply'
    THEN (SELECT floor(extract(epoch FROM e.created_at - min(c.created_at)) * 1000)::bigint
          FROM tickets_ticketevent c WHERE c.tenant_id = e.tenant_id AND c.ticket_id = e.ticket_id
            AND c.kind = 'customer_message' AND c.id < e.id
            AND c.id > (SELECT max(p.id) FROM tickets_ticketevent p WHERE p.tenant_id = e.tenant_id
                          AND p.ticket_id = e.ticket_id AND p.kind = 'agent_reply' AND p.id < e.id))
  END AS response_ms,
  CASE WHEN e.kind = 'assigned' AND e.channel = 'chat' AND NOT EXISTS (
      SELECT 1 FROM tickets_ticketevent p WHERE p.tenant_id = e.tenant_id AND p.ticket_id = e.ticket_id
        AND p.kind = 'assigned' AND p.id < e.id)
    THEN (SELECT floor(extract(epoch FROM e.created_at - s.created_at) * 1000)::bigint
          FROM tickets_ticketevent s WHERE s.tenant_id = e.tenant_id AND s.ticket_id = e.ticket_id
            AND s.kind = 'chat_started' ORDER BY s.id LIMIT 1)
  END AS pickup_ms,
  CASE WHEN e.kind = 'created' AND e.channel = 'call' THEN EXISTS (
      SELECT 1 FROM tickets_callrecord r WHERE r.tenant_id = e.tenant_id AND r.ticket_id = e.ticket_id)
  END AS has_call_record,
  CASE WHEN e.kind = 'status_changed' AND e.data -> 'status' ->> 1 = 'resolved' THEN NOT EXISTS (
      SELECT 1 FROM reports_rating r WHERE r.tenant_id = e.tenant_id AND r.ticket_id = e.ticket_id)
  END AS resolved_unrated,
  -- SLA met (true), missed (false) or no target (null), read from the ticket's SLA columns. First response:
  -- at the ticket's first reply (the target has one episode, and its columns stay put once it is answered).
  CASE WHEN e.kind = 'agent_reply' THEN (
      SELECT t.first_response_breached_at IS NULL AND e.created_at <= t.first_response_due_at
      FROM tickets_ticket t WHERE t.tenant_id = e.tenant_id AND t.id = e.ticket_id
        AND t.first_response_due_at IS NOT NULL AND NOT EXISTS (
          SELECT 1 FROM tickets_ticketevent p WHERE p.tenant_id = e.tenant_id AND p.ticket_id = e.ticket_id
            AND p.kind = 'agent_reply' AND p.id < e.id))
  END AS first_response_sla_met,
  -- Resolution: the columns describe the current episode only, so only the resolution that ended it counts:
  -- the ticket's latest resolution while it is still resolved (rollups recompute the hours of a ticket's
  -- earlier resolutions when it is resolved or reopened again, see rollups.py).
  CASE WHEN e.kind = 'status_changed' AND e.data -> 'status' ->> 1 = 'resolved' THEN (
      SELECT t.resolution_breached_at IS NULL AND e.created_at <= t.resolution_due_at
      FROM tickets_ticket t WHERE t.tenant_id = e.tenant_id AND t.id = e.ticket_id AND t.status = 'resolved'
        AND t.resolution_due_at IS NOT NULL AND NOT EXISTS (
          SELECT 1 FROM tickets_ticketevent n WHERE n.tenant_id = e.tenant_id AND n.ticket_id = e.ticket_id
            AND n.kind = 'status_changed' AND n.data -> 'status' ->> 1 = 'resolved' AND n.id > e.id))
  END AS resolution_sla_met
FROM tickets_ticketevent e
WHERE e.tenant_id = %s AND e.kind IN ({kinds}) AND ({when})
-- OFFSET 0 keeps this a separate step: pulled up into the outer query, each duration's subqueries would run
-- once per use of the column instead of once per event.
OFFSET 0
"""

_EVENT_OUTER = """
SELECT x.at, x.ticket_id, x.department_id, x.agent_id, x.channel,
  (x.kind = 'created')::int AS tickets_created,
  COALESCE(x.kind = 'status_changed' AND x.data -> 'status' ->> 1 = 'resolved', false)::int AS tickets_resolved,
  (x.kind = 'agent_reply')::int AS answers,
  (x.first_response_ms IS NOT NULL)::int AS first_response_count,
  COALESCE(x.first_response_ms, 0) AS first_response_ms,
  (x.response_ms IS NOT NULL)::int AS response_count,
  COALESCE(x.response_ms, 0) AS response_ms,
  (x.kind = 'customer_message')::int AS incoming_messages,
  (x.kind = 'created' AND x.channel = 'chat')::int AS chats,
  (x.kind = 'chat_started')::int AS incoming_chats,
  (x.kind = 'chat_ended' AND COALESCE(x.data ->> 'answered', 'true') <> 'false')::int AS finished_chats,
  COALESCE(x.kind = 'chat_ended' AND x.data ->> 'answered' = 'false', false)::int AS missed_chats,
  (x.kind IN ('customer_message', 'agent_reply') AND x.channel = 'chat')::int AS chat_messages,
  (x.pickup_ms IS NOT NULL)::int AS pickup_count,
  COALESCE(x.pickup_ms, 0) AS pickup_ms,
  (x.kind = 'chat_ended' AND x.data ->> 'duration_seconds' IS NOT NULL)::int AS chat_duration_count,
  CASE WHEN x.kind = 'chat_ended' THEN COALESCE((x.data ->> 'duration_seconds')::bigint * 1000, 0) ELSE 0 END
    AS chat_duration_ms,
  (x.kind = 'created' AND x.channel = 'call')::int AS calls,
  COALESCE(x.has_call_record, false)::int AS incoming_calls,
  (x.kind = 'call_ended')::int AS finished_calls,
  (x.kind = 'call_missed')::int AS missed_calls,
  CASE WHEN x.kind = 'call_ended' THEN COALESCE((x.data ->> 'duration_seconds')::bigint, 0) ELSE 0 END
    AS call_seconds,
  (x.first_response_sla_met IS NOT NULL)::int AS sla_first_response_count,
  COALESCE(x.first_response_sla_met, false)::int AS sla_first_response_met,
  (x.resolution_sla_met IS NOT NULL)::int AS sla_resolution_count,
  COALESCE(x.resolution_sla_met, false)::int AS sla_resolution_met,
  0 AS ratings_positive, 0 AS ratings_negative,
  COALESCE(x.resolved_unrated, false)::int AS not_rated
FROM ({inner}) x
"""

_RATING_FACTS = """
SELECT r.created_at AS at, r.ticket_id, COALESCE(r.department_id, 0) AS department_id,
  COALESCE(r.agent_id, 0) AS agent_id, r.channel,
  {zeros},
  (r.value = 'positive')::int AS ratings_positive, (r.value = 'negative')::int AS ratings_negative,
  0 AS not_rated
FROM reports_rating r
WHERE r.tenant_id = %s AND ({when})
"""

FACT_COLUMNS = ("at", "ticket_id", "department_id", "agent_id", "channel", *METRICS)


def jit_off(cursor) -> None:
    """For the rest of the transaction. The facts' per-event subqueries make the planner's cost estimates
    huge, so PostgreSQL would JIT-compile these statements: seconds of compiling for milliseconds of work."""
    cursor.execute("SET LOCAL jit = off")


def ranges_predicate(column: str, ranges: Ranges) -> tuple[str, list]:
    """``column`` within any of the half-open ``ranges``; false for none."""
    if not ranges:
        return "false", []
    parts, params = [], []
    for start, end in ranges:
        parts.append(f"({column} >= %s AND {column} < %s)")
        params += [start, end]
    return " OR ".join(parts), params


def facts_sql(*, tenant_id: int, ranges: Ranges) -> tuple[str, list]:
    """Every fact whose moment lies in ``ranges``: columns FACT_COLUMNS, one row per counted item."""
    event_when, event_params = ranges_predicate("e.created_at", ranges)
    rating_when, rating_params = ranges_predicate("r.created_at", ranges)
    inner = _EVENT_INNER.format(kinds=", ".join(f"'{k}'" for k in KINDS), when=event_when)
    events = _EVENT_OUTER.format(inner=inner)
    zeros = ", ".join(f"0 AS {m}" for m in METRICS[: METRICS.index("ratings_positive")])
    ratings = _RATING_FACTS.format(zeros=zeros, when=rating_when)
    return (f"{events}\nUNION ALL\n{ratings}",
            [tenant_id, *event_params, tenant_id, *rating_params])


def merge_ranges(ranges: Ranges) -> list[tuple[datetime, datetime]]:
    """Sorted, with overlapping and touching ranges joined, so a predicate stays short."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(r for r in ranges if r[0] < r[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def subtract_ranges(ranges: Ranges, holes: Ranges) -> list[tuple[datetime, datetime]]:
    """``ranges`` without ``holes``."""
    result = []
    holes = merge_ranges(holes)
    for start, end in merge_ranges(ranges):
        cursor = start
        for h_start, h_end in holes:
            if h_end <= cursor or h_start >= end:
                continue
            if h_start > cursor:
                result.append((cursor, h_start))
            cursor = max(cursor, h_end)
        if cursor < end:
            result.append((cursor, end))
    return result


def intersect_ranges(ranges: Ranges, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    return merge_ranges([(max(s, start), min(e, end)) for s, e in ranges])
