"""The routing settings form. It parses input; routing.services decides what is allowed and records changes."""

from __future__ import annotations

from typing import Any

from django import forms

from routing.models import Method, OfflineChats, RoutingSettings
from routing.services import SETTINGS_FIELDS


def _method_field(label: str, help_text: str) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=Method.choices, help_text=help_text)


class RoutingSettingsForm(forms.Form):
    chat_method = _method_field("Chats", "Who is offered a new chat.")
    call_method = _method_field("Calls", "Who is rung for an incoming call.")
    ticket_method = _method_field("Tickets", "Used when tickets are assigned automatically (below).")
    ring_seconds = forms.IntegerField(
        label="Ring time (seconds)", min_value=5, max_value=600,
        help_text="How long an offer rings before it moves on to the next agent.",
    )
    offline_grace_seconds = forms.IntegerField(
        label="Offline grace (seconds)", min_value=0, max_value=3600,
        help_text="How long an agent may drop off before their work is handled as below.",
    )
    offline_chats = forms.ChoiceField(
        label="Running chats of an agent who goes offline", choices=OfflineChats.choices,
        widget=forms.RadioSelect,
    )
    prefer_last_agent = forms.BooleanField(
        label="Offer returning customers to their last agent", required=False,
        help_text="When that agent is online and has room; otherwise the method decides.",
    )
    auto_assign_tickets = forms.BooleanField(
        label="Assign tickets automatically", required=False,
        help_text="Email, form, API and social tickets are routed like chats instead of waiting in To solve.",
    )

    @classmethod
    def initial_for(cls, config: RoutingSettings) -> dict[str, Any]:
        return {name: getattr(config, name) for name in SETTINGS_FIELDS}
