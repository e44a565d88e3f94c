"""The tickets API: creating, reading, changing, filtering and paging tickets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from departments import business_hours
from departments import services as department_services
from helpdesk.tenancy import tenant_context
from tests.api.helpers import error_of, field_errors, ids, results
from tickets.api.serializers import TicketSerializer
from tickets.models import Category, EventKind, Priority, Ticket, TicketEvent
from tickets.selectors import tag_names_by_ticket, ticket_list

URL = "/api/v1/tickets/"


def detail(ticket_id: int) -> str:
    return f"{URL}{ticket_id}/"


def new_ticket(**overrides) -> dict:
    return {
        "subject": "Cannot log in",
        "body": "The login page says my password is wrong.",
        "contact": {"name": "Dana Customer", "email": "dana@example.com"},
        **overrides,
    }


# --- creating ---------------------------------------------------------------------------------------------

def test_creating_a_ticket_returns_it_with_the_api_defaults(admin_client, acme):
    response = admin_client.post(URL, new_ticket(tags=["Login", "urgent-ish", "login"]), format="json")

    assert response.status_code == 201, response.content
    ticket = response.json()
    assert ticket["subject"] == "Cannot log in"
    assert ticket["channel"] == "api"
    assert ticket["priority"] == "medium"
    assert ticket["status"] == "new"
    assert ticket["department"] is None and ticket["assignee"] is None and ticket["category"] is None
    assert ticket["tags"] == ["login", "urgent-ish"]
    assert ticket["contact"]["email"] == "dana@example.com" and ticket["contact"]["visitor_id"]
    assert len(ticket["code"]) == 9 and ticket["code"][4] == "-"
    with tenant_context(acme.tenant):
        stored = Ticket.objects.get(pk=ticket["id"])
        assert stored.messages.get().body == "The login page says my password is wrong."
        assert list(stored.events.values_list("kind", flat=True).order_by("id")) == [
            EventKind.CREATED, EventKind.CUSTOMER_MESSAGE,
        ]


def test_creating_a_ticket_with_department_assignee_priority_and_category(admin_client, acme):
    with tenant_context(acme.tenant):
        category = Category.objects.create(tenant=acme.tenant, name="Billing")
    agent = acme.agents[0]
    response = admin_client.post(URL, new_ticket(
        channel="email", priority="urgent", department=acme.department.pk, assignee=agent.pk,
        category=category.pk,
    ), format="json")

    assert response.status_code == 201, response.content
    ticket = response.json()
    assert ticket["channel"] == "email"
    assert ticket["priority"] == "urgent"
    assert ticket["department"] == {"id": acme.department.pk, "name": "Support"}
    assert ticket["assignee"] == {"id": agent.pk, "display_name": agent.display_name}
    assert ticket["category"] == {"id": category.pk, "name": "Billing"}


def test_a_ticket_without_subject_body_or_contact_is_refused_field_by_field(admin_client):
    response = admin_client.post(URL, {}, format="json")

    assert set(field_errors(response)) == {"subject", "body", "contact"}


def test_a_ticket_whose_customer_has_no_name_email_or_phone_is_refused(admin_client):
    response = admin_client.post(URL, new_ticket(contact={"location": "Lisbon"}), format="json")

    assert "contact" in field_errors(response)
    assert Ticket.unscoped.count() == 0


@pytest.mark.parametrize(("field", "value"), [
    ("priority", "extreme"),
    ("priority", 2),
    ("channel", "carrier-pigeon"),
    ("department", 999_999_999),
    ("department", "support"),
    ("assignee", 2**70),
    ("category", True),
    ("tags", "not-a-list"),
])
def test_an_invalid_value_is_refused_with_its_field_named(admin_client, field, value):
    response = admin_client.post(URL, new_ticket(**{field: value}), format="json")

    assert list(field_errors(response)) == [field]


def test_an_invalid_contact_email_is_reported_under_the_contact(admin_client):
    response = admin_client.post(URL, new_ticket(contact={"email": "not-an-email"}), format="json")

    assert list(field_errors(response)) == ["contact.email"]


def test_unknown_fields_are_refused_and_named(admin_client):
    response = admin_client.post(URL, new_ticket(asignee=1, code="ABCD-EFGH"), format="json")

    fields = field_errors(response)
    assert set(fields) == {"asignee", "code"}
    assert fields["asignee"] == ["Unknown field."]


def test_unknown_fields_inside_the_contact_are_refused_too(admin_client):
    response = admin_client.post(URL, new_ticket(contact={"email": "a@example.com", "twitter": "@a"}), format="json")

    assert list(field_errors(response)) == ["contact.twitter"]


def test_a_body_that_is_not_json_is_refused_with_the_error_shape(admin_client):
    response = admin_client.post(URL, "subject=x", content_type="application/x-www-form-urlencoded")

    assert error_of(response, 415)["code"] == "unsupported_media_type"


def test_malformed_json_is_a_400_with_the_error_shape(admin_client):
    response = admin_client.post(URL, "{not json", content_type="application/json")

    assert error_of(response, 400)["code"] == "parse_error"


# --- reading and changing ---------------------------------------------------------------------------------

def test_retrieving_a_ticket_shows_its_representation(admin_client, acme):
    ticket = acme.ticket(tags=["b", "a"], priority=Priority.HIGH)

    response = admin_client.get(detail(ticket.pk))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "id", "code", "subject", "channel", "status", "postponed_until", "priority", "department", "assignee",
        "contact", "tags", "category", "created_at", "updated_at", "first_response_at", "resolved_at", "sla",
    }
    assert body["code"] == ticket.code
    assert body["priority"] == "high"
    assert body["tags"] == ["a", "b"]
    assert set(body["contact"]) == {"id", "name", "email", "phone", "location", "visitor_id"}


@pytest.mark.parametrize("ticket_id", [999_999_999, 2**70])
def test_a_missing_ticket_is_a_404_with_the_error_shape(admin_client, acme, ticket_id):
    assert error_of(admin_client.get(detail(ticket_id)), 404)["code"] == "not_found"


def test_changing_a_ticket_logs_each_change(admin_client, acme):
    ticket = acme.ticket()
    agent = acme.agents[1]

    response = admin_client.patch(detail(ticket.pk), {
        "subject": "Printer fixed?", "status": "open", "priority": "low", "assignee": agent.pk,
        "tags": ["printer"],
    }, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["subject"] == "Printer fixed?"
    assert body["status"] == "open"
    assert body["priority"] == "low"
    assert body["assignee"]["id"] == agent.pk
    assert body["tags"] == ["printer"]
    with tenant_context(acme.tenant):
        kinds = set(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert {EventKind.SUBJECT_CHANGED, EventKind.STATUS_CHANGED, EventKind.PRIORITY_CHANGED,
            EventKind.ASSIGNED, EventKind.TAGS_CHANGED} <= kinds


def test_postponing_needs_a_future_time(admin_client, acme):
    ticket = acme.ticket()
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    future = timezone.now() + timedelta(days=2)

    refused = admin_client.patch(detail(ticket.pk), {"status": "postponed", "postponed_until": past}, format="json")
    accepted = admin_client.patch(
        detail(ticket.pk), {"status": "postponed", "postponed_until": future.isoformat()}, format="json"
    )

    assert list(field_errors(refused)) == ["postponed_until"]
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "postponed"


def test_a_postponement_date_without_the_postponed_status_is_refused(admin_client, acme):
    ticket = acme.ticket()
    future = (timezone.now() + timedelta(days=2)).isoformat()

    response = admin_client.patch(detail(ticket.pk), {"postponed_until": future}, format="json")

    assert list(field_errors(response)) == ["postponed_until"]


def test_changing_a_read_only_or_unknown_field_is_refused(admin_client, acme):
    ticket = acme.ticket()

    response = admin_client.patch(detail(ticket.pk), {"code": "AAAA-BBBB", "status": "open"}, format="json")

    assert list(field_errors(response)) == ["code"]
    with tenant_context(acme.tenant):
        assert Ticket.objects.get(pk=ticket.pk).status == "new"


def test_an_invalid_status_is_refused(admin_client, acme):
    ticket = acme.ticket()

    assert list(field_errors(admin_client.patch(detail(ticket.pk), {"status": "done"}, format="json"))) == ["status"]


def test_removing_the_department_and_assignee_with_null(admin_client, acme):
    ticket = acme.ticket(assignee=acme.agents[0])

    response = admin_client.patch(detail(ticket.pk), {"department": None, "assignee": None}, format="json")

    assert response.status_code == 200
    assert response.json()["department"] is None and response.json()["assignee"] is None


# --- filters ----------------------------------------------------------------------------------------------

@pytest.fixture
def billing(acme):
    with tenant_context(acme.tenant):
        return department_services.department_create(actor=acme.admin, name="Billing", members=[acme.agents[1]])


def test_filter_by_status(admin_client, acme):
    new = acme.ticket()
    resolved = acme.ticket()
    with tenant_context(acme.tenant):
        from tickets.services import ticket_update

        ticket_update(actor=acme.admin, ticket=resolved, status="resolved")

    assert ids(admin_client.get(URL, {"status": "resolved"})) == [resolved.pk]
    assert set(ids(admin_client.get(URL, {"status": "new,resolved"}))) == {new.pk, resolved.pk}


def test_filter_by_department_including_none(admin_client, acme, billing):
    support = acme.ticket()
    in_billing = acme.ticket(department=billing)
    without = acme.ticket(department=None)

    assert ids(admin_client.get(URL, {"department": billing.pk})) == [in_billing.pk]
    assert ids(admin_client.get(URL, {"department": "none"})) == [without.pk]
    assert set(ids(admin_client.get(URL, {"department": f"none,{acme.department.pk}"}))) == {without.pk, support.pk}


def test_filter_by_channel(admin_client, acme):
    acme.ticket(channel="email")
    chat = acme.ticket(channel="chat")

    assert ids(admin_client.get(URL, {"channel": "chat"})) == [chat.pk]


def test_filter_by_priority_name(admin_client, acme):
    acme.ticket(priority=Priority.MEDIUM)
    urgent = acme.ticket(priority=Priority.URGENT)

    assert ids(admin_client.get(URL, {"priority": "urgent"})) == [urgent.pk]


def test_filter_by_assignee_id_me_and_none(client_with, acme):
    me = acme.agents[0]
    mine = acme.ticket(assignee=me)
    theirs = acme.ticket(assignee=acme.agents[1])
    nobodys = acme.ticket()
    client = client_with(acme.agent_api_key)

    assert ids(client.get(URL, {"assignee": "me"})) == [mine.pk]
    assert ids(client.get(URL, {"assignee": "none"})) == [nobodys.pk]
    assert ids(client.get(URL, {"assignee": str(acme.agents[1].pk)})) == [theirs.pk]
    assert set(ids(client.get(URL, [("assignee", "me"), ("assignee", "none")]))) == {mine.pk, nobodys.pk}


def test_assignee_me_matches_nothing_for_a_key_that_is_no_agent(admin_client, acme):
    acme.ticket(assignee=acme.agents[0])

    assert ids(admin_client.get(URL, {"assignee": "me"})) == []


def test_filter_by_tag(admin_client, acme):
    tagged = acme.ticket(tags=["vip"])
    acme.ticket(tags=["other"])

    assert ids(admin_client.get(URL, {"tag": "VIP"})) == [tagged.pk]


def test_filter_by_creation_range(admin_client, acme):
    now = timezone.now()
    old = acme.ticket(created_at=now - timedelta(days=10))
    middle = acme.ticket(created_at=now - timedelta(days=5))
    recent = acme.ticket(created_at=now - timedelta(hours=1))

    response = admin_client.get(URL, {
        "created_after": (now - timedelta(days=6)).isoformat(), "created_before": (now - timedelta(days=1)).isoformat(),
    })

    assert ids(response) == [middle.pk]
    assert old.pk not in ids(admin_client.get(URL, {"created_after": (now - timedelta(days=6)).isoformat()}))
    assert recent.pk not in ids(admin_client.get(URL, {"created_before": (now - timedelta(days=1)).isoformat()}))


def test_filter_by_updated_since(admin_client, acme):
    long_ago = timezone.now() - timedelta(days=3)
    untouched = acme.ticket(created_at=long_ago)
    changed = acme.ticket(created_at=long_ago)
    admin_client.patch(detail(changed.pk), {"status": "open"}, format="json")

    response = admin_client.get(URL, {"updated_since": (timezone.now() - timedelta(minutes=5)).isoformat()})

    assert ids(response) == [changed.pk]
    assert untouched.pk not in ids(response)


def test_filter_by_keyword_in_subject_or_code(admin_client, acme):
    printer = acme.ticket(subject="Printer jammed on floor 3")
    other = acme.ticket(subject="Password reset")

    assert ids(admin_client.get(URL, {"q": "jammed printer"})) == [printer.pk]
    assert ids(admin_client.get(URL, {"q": other.code.lower()})) == [other.pk]


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "closed"}, "status"),
    ({"status": "new,bogus"}, "status"),
    ({"channel": "fax"}, "channel"),
    ({"priority": "extreme"}, "priority"),
    ({"department": "support"}, "department"),
    ({"department": str(2**64)}, "department"),
    ({"assignee": "someone"}, "assignee"),
    ({"created_after": "yesterday"}, "created_after"),
    ({"created_before": "2024-13-01"}, "created_before"),
    ({"updated_since": "soon"}, "updated_since"),
])
def test_an_invalid_filter_value_is_a_400_naming_the_parameter(admin_client, acme, params, field):
    acme.ticket()

    assert list(field_errors(admin_client.get(URL, params))) == [field]


def test_several_invalid_filters_are_all_reported(admin_client, acme):
    fields = field_errors(admin_client.get(URL, {"status": "x", "priority": "y"}))

    assert set(fields) == {"status", "priority"}


# --- ordering and pages -----------------------------------------------------------------------------------

def _walk(client, first_url: str, params: dict, direction: str) -> list[list[int]]:
    pages = []
    response = client.get(first_url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append([row["id"] for row in body["results"]])
        link = body[direction]
        if link is None:
            return pages
        response = client.get(link)


@pytest.mark.parametrize("ordering", ["-created_at", "created_at", "-updated_at", "updated_at"])
def test_cursor_pages_walk_forward_and_back_without_duplicates_or_gaps(admin_client, acme, ordering):
    now = timezone.now()
    # Ties on the timestamp (four tickets share one) are what the id in the keyset is for.
    moments = [now - timedelta(minutes=m) for m in (9, 8, 7, 7, 7, 7, 3, 2, 1, 0)]
    tickets = [acme.ticket(created_at=moment) for moment in moments]
    field = ordering.lstrip("-")
    expected = [t.pk for t in sorted(tickets, key=lambda t: (getattr(t, field), t.pk),
                                     reverse=ordering.startswith("-"))]

    forward = _walk(admin_client, URL, {"ordering": ordering, "page_size": 3}, "next")

    assert [len(page) for page in forward] == [3, 3, 3, 1]
    assert [pk for page in forward for pk in page] == expected

    last_page_response = admin_client.get(URL, {"ordering": ordering, "page_size": 3})
    for _ in range(3):
        last_page_response = admin_client.get(last_page_response.json()["next"])
    backward = []
    response = admin_client.get(last_page_response.json()["previous"])
    while True:
        body = response.json()
        backward.append([row["id"] for row in body["results"]])
        if body["previous"] is None:
            break
        response = admin_client.get(body["previous"])

    assert backward == list(reversed(forward[:-1]))


def test_the_default_order_is_newest_first(admin_client, acme):
    now = timezone.now()
    older = acme.ticket(created_at=now - timedelta(hours=2))
    newer = acme.ticket(created_at=now - timedelta(hours=1))

    assert ids(admin_client.get(URL)) == [newer.pk, older.pk]


def test_filters_hold_across_pages(admin_client, acme):
    chats = [acme.ticket(channel="chat") for _ in range(4)]
    for _ in range(3):
        acme.ticket(channel="email")

    pages = _walk(admin_client, URL, {"channel": "chat", "page_size": 2}, "next")

    assert sorted(pk for page in pages for pk in page) == sorted(t.pk for t in chats)


@pytest.mark.parametrize("cursor", [
    "garbage",
    "eyJ2IjpbMV0sImIiOmZhbHNlfQ",  # {"v": [1], "b": false}: one value for a two-field order
    "eyJ2IjpbIm5vdC1hLWRhdGUiLDFdLCJiIjpmYWxzZX0",  # {"v": ["not-a-date", 1], ...}
])
def test_an_invalid_cursor_is_a_400(admin_client, acme, cursor):
    acme.ticket()

    assert list(field_errors(admin_client.get(URL, {"cursor": cursor}))) == ["cursor"]


def test_an_unknown_ordering_or_page_size_is_a_400(admin_client, acme):
    assert list(field_errors(admin_client.get(URL, {"ordering": "subject"}))) == ["ordering"]
    assert list(field_errors(admin_client.get(URL, {"page_size": "0"}))) == ["page_size"]
    assert list(field_errors(admin_client.get(URL, {"page_size": "1000"}))) == ["page_size"]


# --- what an agent's key sees -----------------------------------------------------------------------------

def test_an_agent_key_sees_its_departments_its_own_and_departmentless_tickets_only(agent_client, acme, billing):
    me = acme.agents[0]
    in_my_department = acme.ticket()
    without_department = acme.ticket(department=None)
    assigned_to_me_elsewhere = acme.ticket(department=billing, assignee=me)
    elsewhere = acme.ticket(department=billing)

    listed = set(ids(agent_client.get(URL)))

    assert listed == {in_my_department.pk, without_department.pk, assigned_to_me_elsewhere.pk}
    assert agent_client.get(detail(assigned_to_me_elsewhere.pk)).status_code == 200
    assert error_of(agent_client.get(detail(elsewhere.pk)), 404)["code"] == "not_found"
    assert error_of(agent_client.patch(detail(elsewhere.pk), {"status": "open"}, format="json"), 404)
    assert ids(agent_client.get(URL, {"department": billing.pk})) == [assigned_to_me_elsewhere.pk]


def test_an_agent_who_transfers_a_ticket_away_still_gets_the_changed_ticket(agent_client, acme, billing):
    ticket = acme.ticket()

    response = agent_client.patch(detail(ticket.pk), {"department": billing.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["department"]["id"] == billing.pk
    assert agent_client.get(detail(ticket.pk)).status_code == 404


def test_results_are_a_page_object(admin_client, acme):
    acme.ticket()

    body = admin_client.get(URL).json()

    assert set(body) == {"next", "previous", "results"}
    assert body["next"] is None and body["previous"] is None
    assert len(results(admin_client.get(URL))) == 1


# --- the representation -----------------------------------------------------------------------------------

def test_a_ticket_is_written_exactly_as_its_declared_fields_describe(acme):
    """TicketSerializer writes its output directly for speed; the declared fields (the schema) must agree."""
    with tenant_context(acme.tenant):
        category = Category.objects.create(tenant=acme.tenant, name="Billing")
        policy = business_hours.sla_policy_create(
            actor=acme.admin, name="Standard", targets={"medium": {"first_response": 60, "resolution": 480}},
        )
        department_services.department_update(actor=acme.admin, department=acme.department, sla_policy=policy)
    plain = acme.ticket(department=None, tags=[])
    full = acme.ticket(assignee=acme.agents[0], category=category, tags=["Zeta", "alpha"], priority=Priority.URGENT)
    with tenant_context(acme.tenant):
        Ticket.objects.filter(pk=full.pk).update(
            status="postponed", postponed_until=timezone.now() + timedelta(days=2),
            first_response_breached_at=timezone.now(), sla_paused_since=timezone.now(),
        )
        tickets = list(ticket_list(actor=acme.admin).filter(pk__in=[plain.pk, full.pk]).order_by("id"))
    assert tickets[1].sla_policy_id == policy.pk and tickets[0].sla_policy_id is None

    for zone in ("UTC", "America/New_York"):
        with timezone.override(zone):
            for ticket in tickets:
                declared = serializers.Serializer.to_representation(TicketSerializer(), ticket)
                written = TicketSerializer(ticket).data
                assert written == declared
                assert list(written) == list(declared)
    assert TicketSerializer(tickets[1]).data["sla"]["breached"] is True


def test_a_list_row_shows_a_ticket_exactly_as_its_own_page_does(admin_client, acme):
    """Lists read plain rows and their tags in one query; a ticket's own endpoint reads the instance."""
    with tenant_context(acme.tenant):
        category = Category.objects.create(tenant=acme.tenant, name="Billing")
    acme.ticket(department=None, tags=[])
    acme.ticket(assignee=acme.agents[0], category=category, tags=["zeta", "Alpha", "mid"])
    acme.ticket(tags=["one"], priority=Priority.LOW)

    listed = results(admin_client.get(URL))
    assert len(listed) == 3
    for row in listed:
        assert row == admin_client.get(detail(row["id"])).json()
    assert [row["tags"] for row in listed] == [["one"], ["alpha", "mid", "zeta"], []]


def test_tag_names_are_read_only_from_the_active_tenant(acme, globex):
    theirs = globex.ticket(tags=["secret"])
    ours = acme.ticket(tags=["b", "a"])
    with tenant_context(acme.tenant):
        assert tag_names_by_ticket(ticket_ids=[theirs.pk, ours.pk]) == {ours.pk: ["a", "b"]}
