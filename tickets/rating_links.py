"""The tokenised link a customer follows to rate a ticket, made where mails and chats are sent.

The token is signed (django.core.signing) over the tenant and the ticket, so making a link needs no write and
any number of mails may carry one. It lives here, below routing and reports, because the resolved and
satisfaction mails (tickets) and the chat widget's end-of-chat prompt (routing) both offer it; reports.ratings
reads the token back when the customer follows the link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from tickets.models import Ticket

# Unchanged from when reports made the links, so links already sent stay valid.
SALT = "reports.rating"
LINK_VALID = timedelta(days=60)


@dataclass(frozen=True)
class RatingToken:
    tenant_id: int
    ticket_id: int


def rating_link_for(ticket: Ticket, *, base_url: str | None = None) -> str:
    """The link a customer follows to rate ``ticket`` (the resolution mails and the chat widget's prompt).

    Absolute when ``base_url`` or the PUBLIC_BASE_URL setting is given, else a path. The page is served by
    reports (URL name "rating"); it is named, not imported, so this module stays below reports.
    """
    token = signing.dumps({"t": ticket.tenant_id, "k": ticket.pk}, salt=SALT, compress=True)
    path = reverse("rating", kwargs={"token": token})
    base = base_url if base_url is not None else getattr(settings, "PUBLIC_BASE_URL", "")
    return f"{base.rstrip('/')}{path}" if base else path


def rating_token_load(token: str) -> RatingToken:
    """The tenant and ticket a token names; raises ValueError for a forged, mangled or expired token."""
    try:
        data = signing.loads(token, salt=SALT, max_age=LINK_VALID)
        return RatingToken(tenant_id=int(data["t"]), ticket_id=int(data["k"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise ValueError("invalid rating token") from exc
