"""Routing an item from the queue to an agent: methods, eligibility, ringing, declines and ring-outs, the
waiting queue, agents going offline, returning customers, and the decision recorded for every step."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from departments import services as department_services
from helpdesk.errors import Conflict, NotFound
from helpdesk.principals import actor_for_membership
from helpdesk.tenancy import tenant_context
from routing import services, tasks
from routing.models import (
    AgentRotation,
    ItemState,
    Method,
    Offer,
    OfferState,
    RoutingDecision,
    RoutingItem,
)
from tests.routing.routing_world import (
    accept,
    agent_change,
    assignee_id,
    chat,
    configure,
    decline,
    item_of,
    offer_states,
    resolve,
    ringing,
    route,
    team,
)
from tickets import services as ticket_services
from tickets.models import Channel, EventKind, Status, Ticket, TicketEvent


def log_kinds(world, ticket) -> list[str]:
    with tenant_context(world.tenant):
        return list(TicketEvent.objects.filter(ticket_id=ticket.pk).order_by("id").values_list("kind", flat=True))


def state_of(world, ticket) -> str:
    return item_of(world, ticket).state


# --- queueing ---------------------------------------------------------------------------------------------

def test_a_new_chat_waits_in_the_queue_for_routing(acme):
    department, _ = team(acme, {})

    ticket = chat(acme, department, priority=3)

    item = item_of(acme, ticket)
    assert (item.channel, item.state, item.priority, item.attempts) == ("chat", ItemState.QUEUED, 3, 0)
    assert assignee_id(acme, ticket) is None


def test_email_tickets_wait_in_to_solve_unless_the_tenant_routes_tickets(acme):
    department, (agent,) = team(acme, {})
    left_to_solve = acme.ticket(department=department)
    with tenant_context(acme.tenant):
        assert not RoutingItem.objects.filter(ticket_id=left_to_solve.pk).exists()

    configure(acme, auto_assign_tickets=True)
    routed = acme.ticket(department=department)

    assert item_of(acme, routed).channel == "ticket"
    route(acme, routed)
    assert set(ringing(acme, routed)) == {agent.pk}


# --- the methods ------------------------------------------------------------------------------------------

def test_ring_all_rings_every_eligible_agent_and_the_first_to_accept_gets_the_chat(acme):
    configure(acme, chat_method=Method.RING_ALL)
    department, agents = team(acme, {}, {}, {}, {"status": "away"})
    ticket = chat(acme, department)

    route(acme, ticket)
    assert set(ringing(acme, ticket)) == {a.pk for a in agents[:3]}
    assert state_of(acme, ticket) == ItemState.RINGING

    accepted = accept(acme, agents[1], ticket)

    assert accepted.assignee_id == agents[1].pk
    assert accepted.status == Status.OPEN
    assert offer_states(acme, ticket) == {
        agents[0].pk: [OfferState.WITHDRAWN], agents[1].pk: [OfferState.ACCEPTED], agents[2].pk: [OfferState.WITHDRAWN],
    }
    assert state_of(acme, ticket) == ItemState.ASSIGNED
    kinds = log_kinds(acme, ticket)
    assert kinds.count(EventKind.OFFER_WITHDRAWN) == 2
    assert kinds[-2:] == [EventKind.ASSIGNED, EventKind.STATUS_CHANGED]  # accepting opens the new chat


def test_a_withdrawn_ring_all_offer_can_no_longer_be_accepted(acme):
    configure(acme, chat_method=Method.RING_ALL)
    department, agents = team(acme, {}, {})
    ticket = chat(acme, department)
    route(acme, ticket)
    late_offer = ringing(acme, ticket)[agents[1].pk]
    accept(acme, agents[0], ticket)

    with tenant_context(acme.tenant), pytest.raises(Conflict):
        services.offer_accept(actor=actor_for_membership(agents[1].membership), offer_id=late_offer.pk)

    assert assignee_id(acme, ticket) == agents[0].pk


def test_round_robin_takes_turns_in_order_of_last_assignment(acme):
    configure(acme, chat_method=Method.ROUND_ROBIN)
    department, agents = team(acme, {}, {}, {})
    winners = []
    for _ in range(7):
        ticket = chat(acme, department)
        (winner,) = route(acme, ticket).winner_ids
        winners.append(winner)
        accept(acme, next(a for a in agents if a.pk == winner), ticket)
        resolve(acme, ticket)

    first_round = winners[:3]
    assert sorted(first_round) == sorted(a.pk for a in agents)
    assert winners[3:6] == first_round
    assert winners[6] == first_round[0]


def test_accepting_a_round_robin_offer_late_does_not_cost_the_agent_their_turn(acme):
    configure(acme, chat_method=Method.ROUND_ROBIN)
    department, (first, second) = team(acme, {"max_chats": 5}, {"max_chats": 5})
    tickets = [chat(acme, department) for _ in range(4)]
    picks = [route(acme, tickets[0]).winner_ids, route(acme, tickets[1]).winner_ids, route(acme, tickets[2]).winner_ids]
    assert picks == [[first.pk], [second.pk], [first.pk]]

    # The second agent answers their first offer only now, after the first agent's second turn was decided.
    accept(acme, second, tickets[1])

    assert route(acme, tickets[3]).winner_ids == [second.pk]


def test_round_robin_skips_agents_at_max_load(acme):
    configure(acme, chat_method=Method.ROUND_ROBIN)
    department, (busy, free) = team(acme, {"max_chats": 1}, {"max_chats": 5})
    first = chat(acme, department)
    assert route(acme, first).winner_ids == [busy.pk]  # never assigned, lowest id
    accept(acme, busy, first)

    winners = [route(acme, chat(acme, department)).winner_ids for _ in range(3)]

    assert winners == [[free.pk]] * 3


def test_round_robin_remembers_turns_per_department_and_channel(acme):
    configure(acme, chat_method=Method.ROUND_ROBIN, ticket_method=Method.ROUND_ROBIN, auto_assign_tickets=True)
    department, (first, second) = team(acme, {}, {})
    other_department, _ = team(acme, {}, {})
    with tenant_context(acme.tenant):
        # The same two agents also work in the other department.
        for agent in (first, second):
            department_services.department_member_add(actor=acme.admin, department=other_department, agent=agent)

    assert route(acme, chat(acme, department)).winner_ids == [first.pk]
    # A turn taken in one department or channel is not a turn in another.
    assert route(acme, chat(acme, other_department)).winner_ids == [first.pk]
    assert route(acme, acme.ticket(department=department)).winner_ids == [first.pk]
    assert route(acme, chat(acme, department)).winner_ids == [second.pk]

    with tenant_context(acme.tenant):
        rotation = set(AgentRotation.objects.values_list("agent_id", "department_id_key", "channel"))
    assert rotation == {
        (first.pk, department.pk, "chat"), (second.pk, department.pk, "chat"),
        (first.pk, other_department.pk, "chat"), (first.pk, department.pk, "ticket"),
    }


def test_maximum_utilization_fills_the_busiest_agent_who_still_has_a_free_slot(acme):
    configure(acme, chat_method=Method.MAX_UTILIZATION)
    department, (idle, busy, full) = team(acme, {"max_chats": 3}, {"max_chats": 2}, {"max_chats": 2})
    with tenant_context(acme.tenant):
        for agent, count in ((busy, 1), (full, 2)):
            for _ in range(count):
                ticket_services.ticket_update(actor=acme.admin, ticket=chat(acme, department), assignee=agent)

    assert route(acme, chat(acme, department)).winner_ids == [busy.pk]
    # The ringing offer holds the busy agent's last slot, so the next chat goes to the idle agent.
    assert route(acme, chat(acme, department)).winner_ids == [idle.pk]


def test_mean_utilization_offers_to_the_least_busy_agent(acme):
    configure(acme, chat_method=Method.MEAN_UTILIZATION)
    department, (two, one, zero) = team(acme, {}, {}, {})
    with tenant_context(acme.tenant):
        for agent, count in ((two, 2), (one, 1)):
            for _ in range(count):
                ticket_services.ticket_update(actor=acme.admin, ticket=chat(acme, department), assignee=agent)

    winners = [route(acme, chat(acme, department)).winner_ids[0] for _ in range(3)]

    # A ringing offer counts as running work: after the first offer the idle agent and the agent with one
    # chat are level, and the one assigned less recently goes first.
    assert winners == [zero.pk, one.pk, zero.pk]


def test_random_offers_to_one_eligible_agent_at_a_time(acme):
    configure(acme, chat_method=Method.RANDOM)
    department, agents = team(acme, {}, {}, {"takes_chats": False})
    eligible = {agents[0].pk, agents[1].pk}
    seen = set()
    for seed in range(12):
        decision = route(acme, chat(acme, department), rng=random.Random(seed))
        assert len(decision.winner_ids) == 1
        seen.add(decision.winner_ids[0])
        with tenant_context(acme.tenant):
            Offer.objects.filter(decision=decision).update(state=OfferState.WITHDRAWN)  # free the slot again

    assert seen == eligible


def test_priority_rings_only_the_highest_tier_that_has_a_free_agent(acme):
    configure(acme, chat_method=Method.PRIORITY)
    department, (best_full, second_a, second_b, third) = team(
        acme, {"chat_priority": 1, "max_chats": 1}, {"chat_priority": 2}, {"chat_priority": 2},
        {"chat_priority": 3},
    )
    with tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.admin, ticket=chat(acme, department), assignee=best_full)
    ticket = chat(acme, department)

    decision = route(acme, ticket)

    assert set(decision.winner_ids) == {second_a.pk, second_b.pk}
    reasons = {c["agent_id"]: c["reason"] for c in decision.candidates}
    assert reasons[best_full.pk] == "full (1/1)"
    assert reasons[third.pk] == "lower priority tier (3 > 2)"


def test_calls_use_the_call_priority_and_call_limit(acme):
    department, (caller, chatter) = team(
        acme, {"takes_calls": True, "call_priority": 1, "chat_priority": 9},
        {"takes_calls": True, "call_priority": 5, "chat_priority": 1},
    )
    call = acme.ticket(channel=Channel.CALL, department=department)
    assert item_of(acme, call).channel == "call"

    decision = route(acme, call)

    assert decision.method == Method.PRIORITY  # the default for calls
    assert decision.winner_ids == [caller.pk]
    accept(acme, caller, call)
    # One call at a time (max_calls 1): the next call goes to the lower tier.
    assert route(acme, acme.ticket(channel=Channel.CALL, department=department)).winner_ids == [chatter.pk]


# --- eligibility and the decision record ------------------------------------------------------------------

def test_every_candidate_is_recorded_with_status_load_priority_last_assignment_and_why_they_lost(acme):
    configure(acme, chat_method=Method.MEAN_UTILIZATION)
    department, (winner, away, no_chats, full, lower, loaded) = team(
        acme, {"display_name": "Winner"}, {"status": "away"}, {"takes_chats": False}, {"max_chats": 1},
        {"chat_priority": 60}, {"max_chats": 3},
    )
    with tenant_context(acme.tenant):
        for agent in (full, loaded):
            ticket_services.ticket_update(actor=acme.admin, ticket=chat(acme, department), assignee=agent)
    ticket = chat(acme, department)

    decision = route(acme, ticket)

    assert decision.method == Method.MEAN_UTILIZATION
    assert decision.winner_ids == [winner.pk]
    assert decision.department_id_at_decision == department.pk
    records = {c["agent_id"]: c for c in decision.candidates}
    assert records[winner.pk] == {
        "agent_id": winner.pk, "name": "Winner", "status": "online", "load": 0, "max_load": 3, "priority": 50,
        "last_assigned_at": None, "result": "offered", "reason": "",
    }
    assert records[away.pk]["status"] == "away"
    assert records[away.pk]["reason"] == "not online (away)"
    assert records[no_chats.pk]["reason"] == "does not take this channel"
    assert (records[full.pk]["load"], records[full.pk]["reason"]) == (1, "full (1/1)")
    assert records[lower.pk]["reason"] == "lower priority tier (60 > 50)"
    assert records[loaded.pk]["reason"] == "not picked by mean utilization"
    # Agents outside the department are not considered for it.
    assert acme.agents[0].pk not in records
    assert all(r["result"] == "lost" for agent_id, r in records.items() if agent_id != winner.pk)


def test_the_decision_shows_in_the_tickets_system_log(acme):
    configure(acme, chat_method=Method.ROUND_ROBIN)
    department, (agent,) = team(acme, {"display_name": "Dana"})
    ticket = chat(acme, department)

    decision = route(acme, ticket)

    with tenant_context(acme.tenant):
        event = TicketEvent.objects.filter(ticket_id=ticket.pk, kind=EventKind.ROUTED).get()
    assert event.data == {
        "decision_id": decision.pk, "method": "round_robin", "outcome": "offered to 1 agent(s) by round robin",
        "offered_to": ["Dana"],
    }
    assert event.actor_type == "system"


def test_a_chat_without_a_department_may_go_to_any_agent(acme):
    configure(acme, chat_method=Method.RING_ALL)
    _, (extra,) = team(acme, {})
    ticket = chat(acme, None)

    decision = route(acme, ticket)

    everyone = {acme.admin_agent.pk, acme.agents[0].pk, acme.agents[1].pk, extra.pk}
    assert set(decision.winner_ids) == everyone


def test_with_no_eligible_agent_the_chat_waits_and_the_decision_says_why(acme):
    department, (agent,) = team(acme, {"status": "offline"})
    ticket = chat(acme, department)

    decision = route(acme, ticket)

    assert decision.winner_ids == []
    assert decision.outcome == "no eligible agent: waiting in the queue"
    assert {c["agent_id"]: c["reason"] for c in decision.candidates}[agent.pk] == "not online (offline)"
    item = item_of(acme, ticket)
    assert (item.state, item.attempts) == (ItemState.QUEUED, 1)
    assert ringing(acme, ticket) == {}


# --- answering: decline, ring-out ----------------------------------------------------------------------

def test_the_offer_rings_for_the_configured_time(acme):
    department, _ = team(acme, {})
    first = chat(acme, department)
    route(acme, first)
    (offer,) = ringing(acme, first).values()
    assert offer.expires_at - offer.created_at == timedelta(seconds=30)

    configure(acme, ring_seconds=45)
    second = chat(acme, department)
    route(acme, second)
    (offer,) = ringing(acme, second).values()
    assert offer.expires_at - offer.created_at == timedelta(seconds=45)


def test_a_declined_chat_goes_to_the_next_candidate_and_never_back_to_the_decliner(acme):
    configure(acme, chat_method=Method.ROUND_ROBIN)
    department, (first, second) = team(acme, {}, {})
    ticket = chat(acme, department)
    assert route(acme, ticket).winner_ids == [first.pk]

    decline(acme, first, ticket)
    assert state_of(acme, ticket) == ItemState.QUEUED
    assert EventKind.OFFER_DECLINED in log_kinds(acme, ticket)

    decision = route(acme, ticket)
    assert decision.winner_ids == [second.pk]
    decline(acme, second, ticket)

    decision = route(acme, ticket)
    assert decision.winner_ids == []
    reasons = {c["agent_id"]: c["reason"] for c in decision.candidates}
    assert reasons[first.pk] == reasons[second.pk] == "declined or missed this item before"
    assert state_of(acme, ticket) == ItemState.QUEUED


def test_declining_one_ring_all_offer_keeps_the_others_ringing(acme):
    configure(acme, chat_method=Method.RING_ALL)
    department, (first, second) = team(acme, {}, {})
    ticket = chat(acme, department)
    route(acme, ticket)

    decline(acme, first, ticket)

    assert set(ringing(acme, ticket)) == {second.pk}
    assert state_of(acme, ticket) == ItemState.RINGING


def test_an_offer_not_accepted_in_time_is_missed_and_the_chat_moves_on(acme):
    configure(acme, chat_method=Method.ROUND_ROBIN)
    department, (first, second) = team(acme, {}, {})
    ticket = chat(acme, department)
    route(acme, ticket)

    with tenant_context(acme.tenant):
        assert services.offers_expire(now=timezone.now() + timedelta(seconds=29)) == 0
        assert services.offers_expire(now=timezone.now() + timedelta(seconds=31)) == 1

    assert offer_states(acme, ticket) == {first.pk: [OfferState.MISSED]}
    assert state_of(acme, ticket) == ItemState.QUEUED
    with tenant_context(acme.tenant):
        missed = TicketEvent.objects.get(ticket_id=ticket.pk, kind=EventKind.OFFER_MISSED)
        assert missed.data["agent_id"] == first.pk
        # Counted against the agent who missed it.
        assert Offer.objects.filter(agent=first, state=OfferState.MISSED).count() == 1
    assert route(acme, ticket).winner_ids == [second.pk]


def test_accepting_an_offer_that_rang_out_is_refused(acme):
    department, (agent,) = team(acme, {})
    ticket = chat(acme, department)
    route(acme, ticket)
    with tenant_context(acme.tenant):
        Offer.objects.filter(item__ticket_id=ticket.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(Conflict):
        accept(acme, agent, ticket)

    assert assignee_id(acme, ticket) is None
    with tenant_context(acme.tenant):
        assert services.offers_expire() == 1
    assert offer_states(acme, ticket) == {agent.pk: [OfferState.MISSED]}


def test_an_agent_cannot_answer_someone_elses_offer(acme):
    department, (agent, colleague) = team(acme, {}, {"status": "offline"})
    ticket = chat(acme, department)
    route(acme, ticket)
    offer = ringing(acme, ticket)[agent.pk]

    with tenant_context(acme.tenant):
        with pytest.raises(NotFound):
            services.offer_accept(actor=actor_for_membership(colleague.membership), offer_id=offer.pk)
        with pytest.raises(NotFound):
            services.offer_decline(actor=actor_for_membership(colleague.membership), offer_id=offer.pk)

    assert set(ringing(acme, ticket)) == {agent.pk}


def test_another_tenants_agent_finds_no_such_offer_and_is_never_a_candidate(acme, globex):
    department, (agent,) = team(acme, {})
    ticket = chat(acme, department)
    decision = route(acme, ticket)
    offer = ringing(acme, ticket)[agent.pk]

    with tenant_context(globex.tenant), pytest.raises(NotFound):
        services.offer_accept(actor=actor_for_membership(globex.agents[0].membership), offer_id=offer.pk)

    globex_agents = {globex.admin_agent.pk, *(a.pk for a in globex.agents)}
    assert globex_agents.isdisjoint(c["agent_id"] for c in decision.candidates)
    assert set(ringing(acme, ticket)) == {agent.pk}


def test_assigning_a_ringing_chat_by_hand_withdraws_its_offers(acme):
    configure(acme, chat_method=Method.RING_ALL)
    department, (first, second) = team(acme, {}, {})
    ticket = chat(acme, department)
    route(acme, ticket)

    with tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.admin, ticket=Ticket.objects.get(pk=ticket.pk), assignee=second)

    assert ringing(acme, ticket) == {}
    assert state_of(acme, ticket) == ItemState.ASSIGNED


# --- the waiting queue and capacity events ----------------------------------------------------------------

def test_waiting_chats_are_offered_by_priority_then_by_waiting_time(acme):
    department, (agent,) = team(acme, {"status": "offline", "max_chats": 1})
    old_medium = chat(acme, department, priority=2)
    urgent = chat(acme, department, priority=4)
    new_medium = chat(acme, department, priority=2)
    for ticket in (old_medium, urgent, new_medium):
        assert route(acme, ticket).winner_ids == []
    agent_change(acme, agent, status="online")

    with tenant_context(acme.tenant):
        assert services.route_waiting() == 1
    assert set(ringing(acme, urgent)) == {agent.pk}

    accept(acme, agent, urgent)
    resolve(acme, urgent)
    with tenant_context(acme.tenant):
        assert services.route_waiting() == 1
    assert set(ringing(acme, old_medium)) == {agent.pk}
    assert state_of(acme, new_medium) == ItemState.QUEUED


@pytest.mark.parametrize("event", ["comes online", "raises their limit", "ends a chat"])
def test_freed_capacity_routes_the_queue_at_once(acme, monkeypatch, django_capture_on_commit_callbacks, event):
    department, (agent,) = team(acme, {"max_chats": 1})
    running = chat(acme, department)
    route(acme, running)
    accept(acme, agent, running)
    if event == "comes online":
        agent_change(acme, agent, status="offline")
        resolve(acme, running)
    waiting = chat(acme, department)
    assert route(acme, waiting).winner_ids == []
    sent = []
    monkeypatch.setattr(tasks.route_waiting, "delay", lambda tenant_id: sent.append(tenant_id))

    with django_capture_on_commit_callbacks(execute=True):
        if event == "comes online":
            agent_change(acme, agent, status="online")
        elif event == "raises their limit":
            agent_change(acme, agent, max_chats=2)
        else:
            resolve(acme, running)

    assert acme.tenant.pk in sent
    tasks.route_waiting.run(acme.tenant.pk)
    assert set(ringing(acme, waiting)) == {agent.pk}


def test_a_new_chat_asks_a_worker_to_route_it_once_committed(acme, monkeypatch, django_capture_on_commit_callbacks):
    department, _ = team(acme, {})
    sent = []
    monkeypatch.setattr(tasks.route_item, "delay", lambda tenant_id, item_id: sent.append((tenant_id, item_id)))

    with django_capture_on_commit_callbacks(execute=True):
        ticket = chat(acme, department)

    assert sent == [(acme.tenant.pk, item_of(acme, ticket).pk)]


def test_a_declined_chat_asks_a_worker_to_route_it_again(acme, monkeypatch, django_capture_on_commit_callbacks):
    department, (agent, _) = team(acme, {}, {})
    ticket = chat(acme, department)
    route(acme, ticket)
    sent = []
    monkeypatch.setattr(tasks.route_item, "delay", lambda tenant_id, item_id: sent.append((tenant_id, item_id)))

    with django_capture_on_commit_callbacks(execute=True):
        decline(acme, agent, ticket)

    assert sent == [(acme.tenant.pk, item_of(acme, ticket).pk)]


# --- agents going offline -----------------------------------------------------------------------------

def test_going_offline_withdraws_ringing_offers_and_sends_them_on(acme):
    configure(acme, chat_method=Method.ROUND_ROBIN)
    department, (first, second) = team(acme, {}, {})
    ticket = chat(acme, department)
    assert route(acme, ticket).winner_ids == [first.pk]

    agent_change(acme, first, status="away")

    assert offer_states(acme, ticket) == {first.pk: [OfferState.WITHDRAWN]}
    assert state_of(acme, ticket) == ItemState.QUEUED
    assert route(acme, ticket).winner_ids == [second.pk]


def test_by_default_running_chats_stay_with_an_agent_who_goes_offline(acme):
    department, (agent,) = team(acme, {})
    ticket = chat(acme, department)
    route(acme, ticket)
    accept(acme, agent, ticket)

    agent_change(acme, agent, status="offline")

    assert assignee_id(acme, ticket) == agent.pk
    assert state_of(acme, ticket) == ItemState.ASSIGNED


def test_running_chats_return_to_the_queue_when_the_tenant_says_so(acme):
    configure(acme, offline_chats="requeue", chat_method=Method.ROUND_ROBIN)
    department, (leaving, staying) = team(acme, {}, {})
    ticket = chat(acme, department)
    assert route(acme, ticket).winner_ids == [leaving.pk]
    accept(acme, leaving, ticket)
    email = acme.ticket(department=department, assignee=leaving)

    agent_change(acme, leaving, status="offline")

    assert assignee_id(acme, ticket) is None
    assert state_of(acme, ticket) == ItemState.QUEUED
    assert assignee_id(acme, email) == leaving.pk  # only chats are re-queued
    assert route(acme, ticket).winner_ids == [staying.pk]


# --- returning customers ------------------------------------------------------------------------------

def served_before(world, department, agent) -> None:
    """The returning customer's earlier chat, handled by ``agent`` and resolved."""
    earlier = chat(world, department, email="returning@example.com")
    route(world, earlier)
    accept(world, agent, earlier)
    resolve(world, earlier)


def test_a_returning_customer_is_offered_first_to_their_last_agent(acme):
    configure(acme, chat_method=Method.ROUND_ROBIN)
    department, (first, second) = team(acme, {}, {})
    served_before(acme, department, first)

    decision = route(acme, chat(acme, department, email="returning@example.com"))

    # Round robin alone would pick the second agent, whose turn it is.
    assert decision.winner_ids == [first.pk]
    reasons = {c["agent_id"]: c["reason"] for c in decision.candidates}
    assert reasons[second.pk] == "the returning customer's last agent was preferred"


def test_the_last_agent_is_found_behind_the_customers_newer_unassigned_tickets(acme):
    configure(acme, chat_method=Method.ROUND_ROBIN)
    department, (first, second) = team(acme, {}, {})
    served_before(acme, department, first)
    for n in range(2):  # emails nobody has taken yet
        acme.ticket(department=department,
                    contact=ticket_services.ContactData(name=f"Returning {n}", email="returning@example.com"))

    decision = route(acme, chat(acme, department, email="returning@example.com"))

    assert decision.winner_ids == [first.pk]


def test_the_last_agent_is_not_preferred_when_not_eligible_or_when_the_tenant_turns_it_off(acme):
    configure(acme, chat_method=Method.ROUND_ROBIN)
    department, (first, second) = team(acme, {}, {})
    served_before(acme, department, first)

    agent_change(acme, first, status="break")
    while_away = chat(acme, department, email="returning@example.com")
    assert route(acme, while_away).winner_ids == [second.pk]
    accept(acme, second, while_away)
    resolve(acme, while_away)

    # The second agent handled the customer last, but it is the first agent's turn.
    agent_change(acme, first, status="online")
    configure(acme, prefer_last_agent=False)
    decision = route(acme, chat(acme, department, email="returning@example.com"))
    assert decision.winner_ids == [first.pk]
    assert {c["agent_id"]: c["reason"] for c in decision.candidates}[second.pk] == "not picked by round robin"


# --- repeated and late work is harmless ---------------------------------------------------------------

def test_routing_an_item_again_while_it_rings_does_nothing(acme):
    department, _ = team(acme, {}, {})
    ticket = chat(acme, department)
    assert route(acme, ticket) is not None

    assert route(acme, ticket) is None

    with tenant_context(acme.tenant):
        assert RoutingDecision.objects.filter(ticket_id=ticket.pk).count() == 1
        assert Offer.objects.filter(item__ticket_id=ticket.pk).count() == 1
    assert item_of(acme, ticket).attempts == 1


def test_a_queued_chat_that_was_assigned_or_closed_meanwhile_is_not_offered(acme):
    department, (agent,) = team(acme, {})
    assigned = chat(acme, department)
    closed = chat(acme, department)
    with tenant_context(acme.tenant):
        # Written directly, as a change that happened between queueing and routing.
        Ticket.objects.filter(pk=assigned.pk).update(assignee=agent)
        Ticket.objects.filter(pk=closed.pk).update(status=Status.SPAM)

    assert route(acme, assigned) is None
    assert route(acme, closed) is None

    assert state_of(acme, assigned) == ItemState.ASSIGNED
    assert state_of(acme, closed) == ItemState.CANCELLED
    assert ringing(acme, assigned) == ringing(acme, closed) == {}


def test_accepting_an_offer_takes_a_fixed_number_of_statements(acme, django_assert_num_queries):
    """Accepting sits on every chat's path to an agent: its statements are counted so none creeps in."""
    configure(acme, chat_method=Method.ROUND_ROBIN)
    department, (agent,) = team(acme, {})
    ticket = chat(acme, department)
    route(acme, ticket)
    offer = ringing(acme, ticket)[agent.pk]
    actor = actor_for_membership(agent.membership)
    assert actor.agent.pk == agent.pk

    with django_assert_num_queries(ACCEPT_STATEMENTS), tenant_context(acme.tenant):
        accepted = services.offer_accept(actor=actor, offer_id=offer.pk)

    assert accepted.assignee_id == agent.pk
    assert log_kinds(acme, ticket)[-2:] == [EventKind.ASSIGNED, EventKind.STATUS_CHANGED]
    # The ticket returned is the one read under the lock, brought up to date rather than read again.
    with tenant_context(acme.tenant):
        stored = Ticket.objects.get(pk=ticket.pk)
    assert (accepted.assignee_id, accepted.status, accepted.updated_at) == (
        stored.assignee_id, stored.status, stored.updated_at)


# In a test's transaction: savepoint and set_config (tenant_context), the offer with its ticket id, savepoint,
# the ticket's lock with what is shown of it, the item's lock, the offer's lock with its decision's winners, the
# assignment, the offer's state, other ringing offers, the item's state, both log events in one insert, the
# chat's pickup (and, for a chat entered by hand, whether it has a visitor), the push stream and its event, the
# department's open sockets, two releases.
ACCEPT_STATEMENTS = 19
