"""Seed the push bench: the routing bench's tenant (online agents in departments, queued chats) and one signed-in
browser session per agent.

    DATABASE_URL=postgres://helpdesk_owner@127.0.0.1:5432/helpdesk_bench_push SECRET_KEY=x \\
        .venv/bin/python -m bench.push.seed --agents 1000 --items 2000 --sessions /tmp/sessions.json

Runs as the owner role. The sessions are rows of ``django_session`` written in bulk, with exactly what the
login view stores (user, backend, the password-derived auth hash, the selected tenant), so the server
authenticates each socket as it would a browser's. The auth hash depends on SECRET_KEY: the server must run
with the same one. The last line printed is JSON for the runner.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench.routing import seed as routing_seed


def sessions_create(*, tenant_id: int) -> list[dict]:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from departments.models import AgentProfile
    from helpdesk.middleware import SESSION_TENANT_KEY
    from helpdesk.models import Tenant
    from helpdesk.tenancy import tenant_context

    tenant = Tenant.objects.get(pk=tenant_id)
    with tenant_context(tenant):
        profiles = list(AgentProfile.objects.select_related("user").order_by("id"))
    store = SessionStore()
    expires = timezone.now() + timedelta(days=1)
    rows, out = [], []
    for profile in profiles:
        key = secrets.token_hex(16)
        data = {SESSION_KEY: str(profile.user.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: profile.user.get_session_auth_hash(), SESSION_TENANT_KEY: tenant.pk}
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
        out.append({"agent_id": profile.pk, "cookie": f"{settings.SESSION_COOKIE_NAME}={key}"})
    Session.objects.bulk_create(rows, batch_size=1000)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--departments", type=int, default=20)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--max-chats", type=int, default=5)
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--sessions", type=Path, required=True, help="where to write the agents' cookies (JSON)")
    args = parser.parse_args(argv)
    if args.items > args.agents * args.max_chats // 2:
        raise SystemExit("Keep --items at most half the chat slots, so that every chat finds an agent.")
    started = time.perf_counter()
    seeded = routing_seed.seed(items=args.items, agents=args.agents, departments=args.departments,
                               max_chats=args.max_chats, contacts=args.contacts, rng_seed=11)
    sessions = sessions_create(tenant_id=seeded["tenant_id"])
    args.sessions.write_text(json.dumps(sessions))
    print(f"Seeded {len(sessions)} agent sessions; {time.perf_counter() - started:.1f} s in all", flush=True)
    print(json.dumps({**seeded, "sessions": len(sessions), "sessions_file": str(args.sessions)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
