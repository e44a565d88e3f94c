"""Filters of routing's lists, validated like every other list's (a bad value names its parameter)."""

from __future__ import annotations

import django_filters

from helpdesk.filters import MultiValueFilter
from routing.models import RoutingChannel


class DecisionFilter(django_filters.FilterSet):
    ticket = MultiValueFilter(field_name="ticket_id", numeric=True, help_text="Ticket id(s).")
    channel = MultiValueFilter(field_name="channel", allowed=RoutingChannel.values,
                               help_text=f"One of {', '.join(RoutingChannel.values)}.")
