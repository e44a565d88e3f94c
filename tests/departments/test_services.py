import pytest

from departments import selectors, services
from departments.models import AgentProfile, DepartmentMember
from helpdesk.errors import ApplicationError, NotFound, PermissionDenied
from helpdesk.models import Membership, Role
from helpdesk.tenancy import tenant_context


def member_ids(department):
    return set(DepartmentMember.objects.filter(department=department).values_list("agent_id", flat=True))


def test_admin_adds_all_agents_then_removes_them_all(acme):
    with tenant_context(acme.tenant):
        sales = services.department_create(actor=acme.admin, name="Sales", to_solve_enabled=False)
        assert member_ids(sales) == set()
        added = services.department_members_add_all(actor=acme.admin, department=sales)
        everyone = set(AgentProfile.objects.values_list("id", flat=True))
        assert added == len(everyone) and member_ids(sales) == everyone
        assert services.department_members_add_all(actor=acme.admin, department=sales) == 0
        assert services.department_members_remove_all(actor=acme.admin, department=sales) == len(everyone)
        assert member_ids(sales) == set()


def test_agents_are_toggled_in_and_out_one_by_one(acme):
    agent = acme.agents[1]
    with tenant_context(acme.tenant):
        assert services.department_member_add(actor=acme.admin, department=acme.department, agent=agent)
        assert not services.department_member_add(actor=acme.admin, department=acme.department, agent=agent)
        assert agent.pk in member_ids(acme.department)
        assert services.department_member_remove(actor=acme.admin, department=acme.department, agent=agent)
        assert agent.pk not in member_ids(acme.department)


def test_only_admins_change_departments(acme):
    agent_actor = acme.actor_of(acme.agents[0])
    with tenant_context(acme.tenant):
        with pytest.raises(PermissionDenied):
            services.department_create(actor=agent_actor, name="Rogue")
        with pytest.raises(PermissionDenied):
            services.department_members_add_all(actor=agent_actor, department=acme.department)
        with pytest.raises(PermissionDenied):
            services.agent_update(actor=agent_actor, agent=acme.agents[1], max_chats=9)


def test_department_names_are_unique_per_tenant_with_a_clear_error(acme, globex):
    with tenant_context(acme.tenant):
        with pytest.raises(ApplicationError) as caught:
            services.department_create(actor=acme.admin, name="Support")
        assert "name" in caught.value.fields
    with tenant_context(globex.tenant):
        assert globex.department.name == "Support"  # the same name in another tenant is fine


def test_a_leader_from_another_tenant_is_refused(acme, globex):
    with tenant_context(acme.tenant), pytest.raises(NotFound):
        services.department_update(actor=acme.admin, department=acme.department, leader=globex.agents[0])


def test_agent_profile_values_are_validated(acme):
    with tenant_context(acme.tenant):
        with pytest.raises(ApplicationError) as caught:
            services.agent_update(actor=acme.admin, agent=acme.agents[0], chat_priority=0, status="dancing")
        assert set(caught.value.fields) == {"chat_priority", "status"}
        updated = services.agent_update(actor=acme.admin, agent=acme.agents[0], chat_priority=1, max_chats=6)
        assert (updated.chat_priority, updated.max_chats) == (1, 6)


def test_an_agent_may_change_their_own_status_only(acme):
    me = acme.agents[0]
    with tenant_context(acme.tenant):
        changed = services.agent_set_status(actor=acme.actor_of(me), status="break")
        assert changed.status == "break"
        with pytest.raises(PermissionDenied):
            services.agent_update(actor=acme.actor_of(me), agent=acme.agents[1], status="offline")


def test_the_last_owner_cannot_be_demoted_and_only_owners_grant_ownership(acme):
    with tenant_context(acme.tenant):
        with pytest.raises(ApplicationError):
            services.agent_update(actor=acme.admin, agent=acme.admin_agent, role=Role.AGENT)
        admin_agent = services.agent_create(actor=acme.admin, email="boss@acme.test", display_name="Boss",
                                            role=Role.ADMIN)
        admin_actor = acme.actor_of(admin_agent)
        with pytest.raises(PermissionDenied):
            services.agent_update(actor=admin_actor, agent=acme.agents[0], role=Role.OWNER)
        services.agent_update(actor=acme.admin, agent=acme.agents[0], role=Role.ADMIN)
        assert Membership.objects.get(pk=acme.agents[0].membership_id).role == Role.ADMIN


def test_adding_an_existing_member_again_is_refused(acme):
    with tenant_context(acme.tenant), pytest.raises(ApplicationError) as caught:
        services.agent_create(actor=acme.admin, email="AGENT1@acme.test", display_name="Dup")
    assert "email" in caught.value.fields


def test_department_counts_show_new_open_and_resolved_tickets(acme):
    from tickets.services import ticket_update

    tickets = [acme.ticket() for _ in range(4)]
    with tenant_context(acme.tenant):
        ticket_update(actor=acme.admin, ticket=tickets[0], status="open")
        ticket_update(actor=acme.admin, ticket=tickets[1], status="resolved")
        empty = services.department_create(actor=acme.admin, name="Empty")
        rows = {d.name: d for d in selectors.department_list_with_counts(actor=acme.admin)}
        support = rows["Support"]
        assert (support.new_count, support.open_count, support.resolved_count) == (2, 1, 1)
        assert support.member_count == 1
        assert (rows[empty.name].new_count, rows[empty.name].member_count) == (0, 0)
