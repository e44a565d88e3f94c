"""Finding a returning customer by email is an index lookup for the application role, under row-level
security, not a walk over every contact of the tenant."""

from django.db import connection

from helpdesk.tenancy import tenant_context
from tickets.models import Contact
from tickets.services import ContactData, _contact_by_email


def test_the_email_index_is_on_the_plain_column_so_row_level_security_lets_queries_use_it(db):
    """Under row-level security only leakproof functions may be index conditions; lower() is not, so an index
    on lower(email) would never serve the application role's lookups."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'contact_email_unique_per_tenant'")
        (definition,) = cursor.fetchone()
        cursor.execute("SELECT proleakproof FROM pg_proc WHERE proname = 'texteq'")
        (texteq_leakproof,) = cursor.fetchone()
    assert "(tenant_id, email)" in definition
    assert "lower(" not in definition
    assert texteq_leakproof


def test_emails_are_matched_case_insensitively_because_they_are_stored_lower_cased(acme):
    ticket = acme.ticket(contact=ContactData(email="Mixed.Case@Example.COM"))
    with tenant_context(acme.tenant):
        assert _contact_by_email("MIXED.case@example.com").pk == ticket.contact_id
        assert Contact.objects.get(pk=ticket.contact_id).email == "mixed.case@example.com"
