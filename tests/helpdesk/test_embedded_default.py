"""`make run` on a fresh machine: the embedded default (SQLite, in-process channel layer, tasks run in the
process) must migrate from nothing, seed the demo and serve it. The rest of the suite runs on PostgreSQL, so
only this test would notice a migration or a plain-SQL statement that SQLite does not understand."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run inside the embedded demo after seeding: an agent's inbox, a chat routed by the product's own task path,
# and the decision's explanation read back.
DEMO_CHECK = """
from django.test import Client
from departments.models import AgentProfile
from helpdesk.models import Tenant
from helpdesk.tenancy import tenant_context
from routing import services
from routing.chats import chat_start
from routing.models import AgentRotation, ChatWidget, RoutingDecision

tenant = Tenant.objects.get(slug="acme")
with tenant_context(tenant):
    agent = AgentProfile.objects.select_related("membership__user").filter(status="online").first()
    client = Client()
    client.force_login(agent.membership.user)
    inbox = client.get("/", HTTP_HOST="127.0.0.1")
    assert inbox.status_code == 200, inbox.status_code
    # A stored last turn, so the candidates' timestamps are read back from SQLite too.
    AgentRotation.objects.update_or_create(tenant=tenant, agent=agent, department_id_key=0, channel="chat",
                                           defaults={"last_assigned_at": "2026-01-01T00:00:00Z"})
    before = RoutingDecision.objects.count()
    chat, _token = chat_start(widget=ChatWidget.objects.first(), message="Hello", name="Visitor")
# The routing task runs once the chat's transaction commits, as a worker would.
with tenant_context(tenant):
    decisions = list(RoutingDecision.objects.filter(ticket_id=chat.ticket_id))
    assert RoutingDecision.objects.count() > before and decisions, "the new chat was not routed"
    loads = services.agent_loads(agent_ids=[agent.pk], channel="chat")
    assert loads[agent.pk] >= 0
    print("EMBEDDED-OK", len(decisions), decisions[0].outcome)
"""


def _embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "DATABASE_APP_ROLE", "REDIS_URL", "MIGRATION_DATABASE_URL"}}
    env.update({"SQLITE_PATH": str(tmp_path / "demo.sqlite3"), "LOG_LEVEL": "WARNING",
                "DJANGO_SETTINGS_MODULE": "helpdesk.settings"})
    return env


def _manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)


def test_make_run_s_embedded_default_migrates_seeds_and_serves_the_demo(tmp_path):
    env = _embedded_env(tmp_path)
    migrated = _manage(["migrate", "--no-input", "-v", "0"], env)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    seeded = _manage(["seed_demo"], env)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    assert "admin@acme.test" in seeded.stdout
    checked = _manage(["shell", "-c", DEMO_CHECK], env)
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert "EMBEDDED-OK" in checked.stdout
