"""Time a report computed the naive way, by GROUP BY over the raw log only (no rollups), in this process.

Run by bench.reports with DATABASE_URL as the application role; prints one JSON line per case.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    import django

    django.setup()
    from django.db import connection

    from helpdesk.models import Tenant
    from helpdesk.principals import Actor
    from helpdesk.tenancy import tenant_context
    from reports.facts import jit_off
    from reports.selectors import Plan, report_query_parse, report_sql

    cases = json.loads(sys.argv[1])
    tenant = Tenant.objects.get(slug="bench")
    actor = Actor(tenant=tenant, role="owner")
    for case in cases:
        timings = []
        rows = 0
        for _ in range(case.get("repeat", 1)):
            with tenant_context(tenant):
                query = report_query_parse(actor=actor, params=case["params"])
                sql, params = report_sql(query, Plan(raw_ranges=[(query.start, query.end)]))
                started = time.perf_counter()
                with connection.cursor() as cursor:
                    jit_off(cursor)  # as the reports do: compiling would cost more than it saves
                    cursor.execute(sql, params)
                    rows = len(cursor.fetchall())
                timings.append(time.perf_counter() - started)
        print(json.dumps({"name": case["name"], "seconds": sorted(timings)[len(timings) // 2], "rows": rows}),
              flush=True)


if __name__ == "__main__":
    main()
