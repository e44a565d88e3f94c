"""An admin builds an automation rule in the browser, tries it on past tickets, switches it on, and a new
ticket created through the API is handled by it in a real Celery worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from playwright.sync_api import Page, expect

from departments import services as department_services
from helpdesk.tenancy import tenant_context
from routing.models import Rule
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]
WORKER_START_TIMEOUT = 60
LANDING_TIMEOUT = 30


@pytest.fixture
def celery_worker(app_server, tmp_path) -> Iterator[None]:
    """One Celery worker on the test database as the application role, taking the tasks the server sends."""
    if not os.environ.get("REDIS_URL"):
        pytest.exit("The rules browser test needs REDIS_URL (its worker takes the server's tasks).", returncode=2)
    db = connections["default"].settings_dict
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DATABASE_URL": f"postgres://{settings.DATABASE_APP_ROLE}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
                        f"{db['NAME']}",
        "DB_CONN_MAX_AGE": "0", "SECRET_KEY": "browser-tests", "DEBUG": "false", "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = tmp_path / "worker.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("celery")), "-A", "helpdesk", "worker", "-P", "solo", "--purge",
             "-Q", "celery", "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
            cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while " ready." not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"The Celery worker did not start:\n{log.read_text()[-4000:]}")
            time.sleep(0.2)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _create_ticket_through_api(base_url: str, key: str, **fields) -> int:
    request = urllib.request.Request(
        f"{base_url}/api/v1/tickets/", data=json.dumps(fields).encode(), method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return json.loads(response.read())["id"]


def test_admin_builds_dry_runs_and_activates_a_social_rule(acme, page: Page, sign_in, live_url, celery_worker):
    with tenant_context(acme.tenant):
        marketing = department_services.department_create(actor=acme.admin, name="Marketing")
    old_tweet = acme.ticket(channel="twitter", subject="Your app crashed", department=acme.department)
    acme.ticket(channel="email", subject="Invoice question", department=acme.department)

    sign_in(page, "owner@acme.test")
    page.goto(live_url("/settings/rules/"))
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Name").fill("Social to Marketing")
    page.get_by_label("When", exact=True).select_option("ticket_created")
    # The builder replaces the JSON fields, and shows only the trigger options the trigger takes.
    expect(page.get_by_label("Conditions (JSON)")).to_be_hidden()
    expect(page.get_by_label("After (minutes)")).to_be_hidden()

    for channel in ("twitter", "facebook"):
        page.get_by_role("button", name="Add group (or)").click()
        group = page.get_by_role("group", name=f"Condition group {1 if channel == 'twitter' else 2}")
        group.get_by_label("Field").select_option("channel")
        group.get_by_label("Operator").select_option("is")
        group.get_by_label("Value").select_option(channel)

    page.get_by_role("button", name="Add action").click()
    page.locator("[data-action]").nth(0).get_by_label("Action", exact=True).select_option("transfer")
    page.locator("[data-action]").nth(0).get_by_label("Value").select_option(label="Marketing")
    page.get_by_role("button", name="Add action").click()
    page.locator("[data-action]").nth(1).get_by_label("Action", exact=True).select_option("unassign")

    page.get_by_role("button", name="Dry run").click()
    result = page.locator("[data-dry-run-result]")
    expect(result).to_contain_text("Would match 1 ticket.")
    expect(result.locator(f'[data-dry-run-ticket="{old_tweet.code}"]')).to_contain_text(
        "department: Support → Marketing")
    with tenant_context(acme.tenant):
        assert Ticket.objects.get(pk=old_tweet.pk).department_id == acme.department.pk  # a dry run changes nothing

    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_role("status")).to_contain_text("Rule “Social to Marketing” saved.")
    row = page.locator("tr[data-rule]", has_text="Social to Marketing")
    expect(row).to_contain_text("Off")
    row.get_by_role("button", name="Switch on").click()
    expect(page.locator("tr[data-rule]", has_text="Social to Marketing")).to_contain_text("Active")
    with tenant_context(acme.tenant):
        saved = Rule.objects.get()
    assert saved.active and saved.condition_groups == [
        [{"field": "channel", "operator": "is", "value": "twitter"}],
        [{"field": "channel", "operator": "is", "value": "facebook"}],
    ]

    ticket_id = _create_ticket_through_api(
        live_url(""), acme.api_key, subject="Your app ate my photos", body="All of them.", channel="twitter",
        department=acme.department.pk, contact={"name": "Tweeter", "email": "tweeter@example.com"},
    )
    deadline = time.monotonic() + LANDING_TIMEOUT
    while True:
        with tenant_context(acme.tenant):
            ticket = Ticket.objects.get(pk=ticket_id)
        if ticket.department_id == marketing.pk or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert (ticket.department_id, ticket.assignee_id) == (marketing.pk, None)

    page.goto(live_url(f"/tickets/{ticket.code}/"))
    expect(page.locator(".log")).to_contain_text("Rule “Social to Marketing” fired: department Support → Marketing")
