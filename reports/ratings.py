"""Customers' satisfaction ratings: the tokenised link they follow, and giving or changing a rating.

The link carries a signed token naming the tenant and ticket (made by tickets.rating_links, where the mails and
the chat widget offer it), so sending it needs no write and any number of emails may carry one; a rating stores
only the token's hash. A rating is counted for the agent and department the ticket had when it was rated.
docs/reports.md says how ratings enter the reports.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from helpdesk.errors import ApplicationError, NotFound
from helpdesk.models import Tenant
from reports.models import Rating, RatingValue
from reports.rollups import hours_mark_dirty
from tickets.models import Status, Ticket, TicketEvent
from tickets.rating_links import rating_link_for as rating_link_for  # re-exported: links are made in tickets
from tickets.rating_links import rating_token_load

# A customer may change their mind for a while; after that the rating is part of settled figures.
CHANGEABLE_FOR = timedelta(days=7)
MAX_COMMENT_CHARS = 2000


@dataclass(frozen=True)
class RatingTarget:
    tenant: Tenant
    ticket_id: int
    token_hash: str


def rating_token_read(*, token: str) -> RatingTarget:
    """Who a rating link is for. A forged, mangled or expired token, or a gone tenant, is NotFound."""
    try:
        named = rating_token_load(token)
        tenant = Tenant.objects.get(pk=named.tenant_id)
    except (ValueError, Tenant.DoesNotExist) as exc:
        raise NotFound("This rating link is not valid or has expired.") from exc
    return RatingTarget(tenant=tenant, ticket_id=named.ticket_id,
                        token_hash=hashlib.sha256(token.encode()).hexdigest())


def rating_ticket_get(*, target: RatingTarget) -> Ticket:
    """The ticket a link rates; run inside ``tenant_context(target.tenant)``."""
    ticket = Ticket.objects.select_related("assignee", "department").filter(pk=target.ticket_id).first()
    if ticket is None:
        raise NotFound("This rating link is not valid or has expired.")
    return ticket


def rating_can_change(rating: Rating | None, *, now=None) -> bool:
    return rating is None or (now or timezone.now()) < rating.created_at + CHANGEABLE_FOR


def rating_submit(*, target: RatingTarget, value: str, comment: str = "") -> Rating:
    """Rate (or re-rate, while it may still change) the link's ticket, once it is resolved."""
    comment = (comment or "").strip()
    errors: dict[str, list[str]] = {}
    if value not in RatingValue.values:
        errors["value"] = ["Choose good or bad."]
    if len(comment) > MAX_COMMENT_CHARS:
        errors["comment"] = [f"At most {MAX_COMMENT_CHARS} characters."]
    if errors:
        raise ApplicationError("The rating could not be saved.", fields=errors)
    now = timezone.now()
    with transaction.atomic():
        # Locks the ticket so two submissions of one link (a double click) cannot both create a rating.
        ticket = Ticket.objects.select_for_update(no_key=True).filter(pk=target.ticket_id).first()
        if ticket is None:
            raise NotFound("This rating link is not valid or has expired.")
        rating = Rating.objects.filter(ticket=ticket).first()
        if rating is None:
            if ticket.status != Status.RESOLVED:
                raise ApplicationError("You can rate once your request is resolved.",
                                       fields={"value": ["Not resolved yet."]}, code="not_resolved")
            rating = Rating.objects.create(
                tenant_id=ticket.tenant_id, ticket=ticket, value=value, comment=comment,
                agent_id=ticket.assignee_id, department_id=ticket.department_id, channel=ticket.channel,
                token_hash=target.token_hash, created_at=now, updated_at=now,
            )
            # The ticket's resolutions stop counting as "not rated" in the hours they happened.
            resolved_at = list(TicketEvent.objects.filter(ticket=ticket, kind="status_changed",
                                                          data__status__1=Status.RESOLVED)
                               .values_list("created_at", flat=True))
            hours_mark_dirty(hours=[now, *resolved_at])
            return rating
        if not rating_can_change(rating, now=now):
            raise ApplicationError("This rating can no longer be changed.",
                                   fields={"value": ["Ratings can be changed for 7 days."]}, code="rating_settled")
        rating.value = value
        rating.comment = comment
        rating.token_hash = target.token_hash
        rating.updated_at = now
        rating.save(update_fields=["value", "comment", "token_hash", "updated_at"])
        hours_mark_dirty(hours=[rating.created_at])
    return rating


def rating_for_ticket(*, ticket: Ticket) -> Rating | None:
    return Rating.objects.filter(ticket=ticket).first()
