"""The SQL behind one inbox or API page, and its plans: run the page in-process as the application role,
capture every query it sends, then EXPLAIN (ANALYZE, BUFFERS) the ones that read tickets.

    DATABASE_URL=postgres://helpdesk_app@127.0.0.1:5432/helpdesk_bench SECRET_KEY=x ALLOWED_HOSTS=127.0.0.1 \\
        .venv/bin/python -m bench.foundation.explain --api-key hdk_... --login owner@... \\
        --page api_deep=/api/v1/tickets/?department=1&cursor=...

Prints JSON: for each page, its status, the number of queries, and for each query on tickets its SQL and plan.
With --create, one ticket is also created through the API and every read it makes is explained.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time

TICKET_TABLES = re.compile(r'FROM "tickets_(ticket|tickettag|tag)"')


CREATE_BODY = {
    "subject": "Order 123456 has not arrived", "body": "Hello, my parcel was due last week. Can you check?",
    "channel": "api", "priority": "medium",
    "contact": {"name": "Plan Customer", "email": "plan-customer-{n}@example.net"},
}


def explain_pages(*, pages: dict[str, str], api_key: str, login_email: str | None, create: bool = False) -> dict:
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from helpdesk.models import Membership, User
    from helpdesk.tenancy import set_database_tenant

    api_client = Client(headers={"authorization": f"Bearer {api_key}"}, SERVER_NAME="127.0.0.1")
    web_client = Client(SERVER_NAME="127.0.0.1")
    tenant_id = None
    if login_email:
        user = User.objects.get(email=login_email)
        web_client.force_login(user)
        tenant_id = Membership.objects.filter(user=user).values_list("tenant_id", flat=True).first()

    out: dict[str, dict] = {}
    requests = [(name, "GET", path) for name, path in pages.items()]
    if create:
        requests.append(("api_create", "POST", "/api/v1/tickets/"))
    for name, method, path in requests:
        client = api_client if path.startswith("/api/") else web_client
        send(client, method, path, 0)  # warm: the plans below are of a warm server, as in the load test
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = send(client, method, path, 1)
            elapsed = time.perf_counter() - started
        queries = [q["sql"] for q in captured.captured_queries]
        plans = []
        for sql in queries:
            if not sql.lstrip().upper().startswith("SELECT") or "set_config" in sql:
                continue
            if method == "GET" and not TICKET_TABLES.search(sql):
                continue
            with transaction.atomic():
                # As the request ran: the application role, with the tenant set for row-level security.
                set_database_tenant(tenant_id or _tenant_of_key(api_key))
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    plan = [row[0] for row in cursor.fetchall()]
                transaction.set_rollback(True)
            plans.append({"sql": sql, "plan": plan})
        out[name] = {
            "path": path, "status": response.status_code, "in_process_ms": round(elapsed * 1000, 2),
            "queries": len(queries), "all_sql": queries, "ticket_queries": plans,
        }
    return out


def send(client, method: str, path: str, n: int):
    if method == "GET":
        return client.get(path)
    body = json.loads(json.dumps(CREATE_BODY).replace("{n}", f"{time.time_ns()}-{n}"))
    return client.post(path, data=body, content_type="application/json")


def _tenant_of_key(api_key: str) -> int:
    from helpdesk.models import ApiKey

    return ApiKey.objects.get(key_hash=ApiKey.hash_key(api_key)).tenant_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--login", help="email of a member, for the web pages")
    parser.add_argument("--page", action="append", default=[], help="name=path; repeat")
    parser.add_argument("--create", action="store_true", help="also POST one ticket and explain its reads")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    pages = dict(item.split("=", 1) for item in args.page)
    print(json.dumps(explain_pages(pages=pages, api_key=args.api_key, login_email=args.login, create=args.create)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
