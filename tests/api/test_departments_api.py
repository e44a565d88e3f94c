"""Departments over the API: everyone reads them, admins change them."""

from __future__ import annotations

from departments import services
from departments.models import Department
from helpdesk.tenancy import tenant_context
from tests.api.helpers import error_of, field_errors, ids, results

URL = "/api/v1/departments/"


def detail(department_id: int) -> str:
    return f"{URL}{department_id}/"


def test_departments_are_listed_with_leader_and_members(admin_client, acme):
    with tenant_context(acme.tenant):
        services.department_update(actor=acme.admin, department=acme.department, leader=acme.agents[0])

    rows = results(admin_client.get(URL))

    assert len(rows) == 1
    row = rows[0]
    assert row["name"] == "Support"
    assert row["leader"] == {"id": acme.agents[0].pk, "display_name": acme.agents[0].display_name}
    assert row["members"] == [{"id": acme.agents[0].pk, "display_name": acme.agents[0].display_name}]
    assert row["support_email"] == "support@acme.test"


def test_departments_filter_by_name_and_sort(admin_client, acme):
    with tenant_context(acme.tenant):
        billing = services.department_create(actor=acme.admin, name="Billing")
        sales = services.department_create(actor=acme.admin, name="Sales")

    assert ids(admin_client.get(URL, {"name": "bill"})) == [billing.pk]
    assert ids(admin_client.get(URL)) == [billing.pk, sales.pk, acme.department.pk]
    assert ids(admin_client.get(URL, {"ordering": "-name"})) == [acme.department.pk, sales.pk, billing.pk]
    first = admin_client.get(URL, {"page_size": 2})
    assert ids(first) + ids(admin_client.get(first.json()["next"])) == [billing.pk, sales.pk, acme.department.pk]


def test_an_admin_creates_a_department_with_members_and_leader(admin_client, acme):
    a1, a2 = acme.agents
    response = admin_client.post(URL, {
        "name": "Billing", "description": "Invoices", "members": [a1.pk, a2.pk], "leader": a2.pk,
        "to_solve_enabled": False,
    }, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Billing" and body["to_solve_enabled"] is False
    assert sorted(m["id"] for m in body["members"]) == sorted([a1.pk, a2.pk])
    assert body["leader"]["id"] == a2.pk


def test_a_duplicate_or_missing_name_is_refused(admin_client, acme):
    assert list(field_errors(admin_client.post(URL, {"name": "Support"}, format="json"))) == ["name"]
    assert list(field_errors(admin_client.post(URL, {"description": "x"}, format="json"))) == ["name"]


def test_unknown_member_ids_and_unknown_fields_are_refused(admin_client, acme):
    unknown_member = admin_client.post(URL, {"name": "X", "members": [acme.agents[0].pk, 999_999_999]},
                                       format="json")
    unknown_field = admin_client.post(URL, {"name": "X", "colour": "red"}, format="json")
    not_a_list = admin_client.post(URL, {"name": "X", "members": 5}, format="json")

    assert field_errors(unknown_member) == {"members": ["No such agent: 999999999."]}
    assert list(field_errors(unknown_field)) == ["colour"]
    assert list(field_errors(not_a_list)) == ["members"]
    with tenant_context(acme.tenant):
        assert not Department.objects.filter(name="X").exists()


def test_an_agent_key_cannot_create_or_change_departments(agent_client, acme):
    created = agent_client.post(URL, {"name": "Mine"}, format="json")
    changed = agent_client.patch(detail(acme.department.pk), {"name": "Renamed"}, format="json")

    assert error_of(created, 403)["code"] == "permission_denied"
    assert error_of(changed, 403)["code"] == "permission_denied"
    with tenant_context(acme.tenant):
        assert Department.objects.get(pk=acme.department.pk).name == "Support"
        assert not Department.objects.filter(name="Mine").exists()


def test_an_agent_key_reads_departments(agent_client, acme):
    assert ids(agent_client.get(URL)) == [acme.department.pk]
    assert agent_client.get(detail(acme.department.pk)).json()["name"] == "Support"


def test_patch_changes_only_what_it_sends_and_can_set_the_members(admin_client, acme):
    a1, a2 = acme.agents

    response = admin_client.patch(detail(acme.department.pk), {"members": [a2.pk], "leader": a2.pk}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert [m["id"] for m in body["members"]] == [a2.pk]
    assert body["leader"]["id"] == a2.pk
    assert body["name"] == "Support" and body["support_email"] == "support@acme.test"
    cleared = admin_client.patch(detail(acme.department.pk), {"members": [], "leader": None}, format="json")
    assert cleared.json()["members"] == [] and cleared.json()["leader"] is None


def test_patch_validates_like_create(admin_client, acme):
    with tenant_context(acme.tenant):
        services.department_create(actor=acme.admin, name="Billing")

    assert list(field_errors(admin_client.patch(detail(acme.department.pk), {"name": "Billing"},
                                                format="json"))) == ["name"]
    assert list(field_errors(admin_client.patch(detail(acme.department.pk), {"support_email": "nope"},
                                                format="json"))) == ["support_email"]


def test_a_missing_department_is_a_404(admin_client, acme):
    assert error_of(admin_client.get(detail(999_999_999)), 404)["code"] == "not_found"
    assert error_of(admin_client.patch(detail(999_999_999), {}, format="json"), 404)["code"] == "not_found"
