"""Forms of the agent pages. They only parse input; the rules live in tickets.services."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from departments.models import AgentProfile, Department
from helpdesk.widgets import PlainSelect
from tickets.models import Channel, Priority, Status, Ticket

VIEW_CHOICES = [("all", "All"), ("mine", "Mine"), ("to_solve", "To solve"), ("department", "Department")]
SORT_CHOICES = [("newest", "Newest first"), ("oldest", "Oldest first"), ("activity", "Last activity"),
                ("sla_due", "SLA due soonest (running clocks)")]
# Each sort is a keyset ordering ending with the primary key, served by one of the ticket indexes.
SORT_ORDERINGS: dict[str, tuple[str, str]] = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "activity": ("-updated_at", "-id"),
    # Only tickets whose SLA clock runs: keyset pages cannot step across nulls (the inbox view filters them).
    "sla_due": ("sla_due_at", "id"),
}
PRIORITY_FILTER_CHOICES = [(p.name.lower(), p.label) for p in Priority]
DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def tag_names(raw: str) -> list[str]:
    """``"VIP, refund ,, vip"`` -> ``["refund", "vip"]``: tags are stored lower-case and unique."""
    return sorted({part.strip().lower() for part in raw.split(",") if part.strip()})


class InboxFilterForm(forms.Form):
    """The inbox's query string. Values are limited to what exists, so TicketFilter never sees junk."""

    view = forms.ChoiceField(widget=PlainSelect, choices=VIEW_CHOICES, required=False)
    q = forms.CharField(label="Search", required=False, max_length=200,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Subject or code"}))
    status = forms.ChoiceField(widget=PlainSelect, required=False, choices=[("", "Any status"), *Status.choices])
    priority = forms.ChoiceField(widget=PlainSelect, required=False,
                                 choices=[("", "Any priority"), *PRIORITY_FILTER_CHOICES])
    channel = forms.ChoiceField(widget=PlainSelect, required=False, choices=[("", "Any channel"), *Channel.choices])
    department = forms.ChoiceField(widget=PlainSelect, required=False)
    assignee = forms.ChoiceField(widget=PlainSelect, required=False)
    tag = forms.CharField(required=False, max_length=50, widget=forms.TextInput(attrs={"placeholder": "Tag"}))
    sort = forms.ChoiceField(widget=PlainSelect, required=False, choices=SORT_CHOICES)
    cursor = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    FILTER_FIELDS = ("q", "status", "priority", "channel", "department", "assignee", "tag")

    def __init__(self, *args: Any, departments: Iterable[Department], agents: Iterable[tuple[int, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [
            ("", "Any department"), ("none", "No department"), *((str(d.pk), d.name) for d in departments)
        ]
        self.fields["assignee"].choices = [
            ("", "Anyone"), ("me", "Me"), ("none", "Unassigned"), *((str(pk), name) for pk, name in agents)
        ]

    def clean_view(self) -> str:
        return self.cleaned_data["view"] or "all"

    def clean_sort(self) -> str:
        return self.cleaned_data["sort"] or "newest"

    def filter_data(self) -> dict[str, str]:
        """The valid, non-empty filters, in TicketFilter's parameter names."""
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned[name] for name in self.FILTER_FIELDS if cleaned.get(name)}


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input. Size and type are checked by the service, which knows the limits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        items = data if isinstance(data, list | tuple) else [data]
        cleaned = [super(MultipleFileField, self).clean(item, initial) for item in items if item]
        return [f for f in cleaned if f]


class MessageForm(forms.Form):
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 5}), max_length=50_000)
    attachments = MultipleFileField(required=False)


class TicketPropertiesForm(forms.Form):
    status = forms.ChoiceField(widget=PlainSelect, choices=Status.choices)
    postponed_until = forms.DateTimeField(
        label="Postponed until", required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT),
        help_text="Only with status Postponed.",
    )
    priority = forms.TypedChoiceField(widget=PlainSelect, choices=Priority.choices, coerce=int)
    department = forms.ModelChoiceField(widget=PlainSelect, queryset=Department.objects.none(), required=False,
                                        empty_label="No department")
    assignee = forms.ModelChoiceField(widget=PlainSelect, queryset=AgentProfile.objects.none(), required=False,
                                      empty_label="Unassigned")
    tags = forms.CharField(required=False, max_length=500, help_text="Comma separated.")

    def __init__(self, *args: Any, departments: Any, agents: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        self.fields["assignee"].queryset = agents
        self.fields["assignee"].label_from_instance = lambda agent: agent.display_name

    @classmethod
    def initial_for(cls, ticket: Ticket) -> dict[str, Any]:
        return {
            "status": ticket.status, "postponed_until": ticket.postponed_until, "priority": ticket.priority,
            "department": ticket.department_id, "assignee": ticket.assignee_id,
            "tags": ", ".join(tag.name for tag in ticket.tags.all()),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("status") == Status.POSTPONED and not cleaned.get("postponed_until"):
            self.add_error("postponed_until", "Say until when the ticket is postponed.")
        return cleaned

    def changes(self, ticket: Ticket) -> dict[str, Any]:
        """Only what the agent changed, so saving one field never re-validates (or re-logs) the others."""
        data = self.cleaned_data
        changes: dict[str, Any] = {}
        current_postponed = ticket.postponed_until.replace(second=0, microsecond=0) if ticket.postponed_until else None
        if data["status"] != ticket.status or (
            data["status"] == Status.POSTPONED and data["postponed_until"] != current_postponed
        ):
            changes["status"] = data["status"]
            if data["status"] == Status.POSTPONED:
                changes["postponed_until"] = data["postponed_until"]
        if data["priority"] != ticket.priority:
            changes["priority"] = data["priority"]
        if _pk(data["department"]) != ticket.department_id:
            changes["department"] = data["department"]
        if _pk(data["assignee"]) != ticket.assignee_id:
            changes["assignee"] = data["assignee"]
        wanted_tags = tag_names(data["tags"])
        if wanted_tags != sorted(tag.name for tag in ticket.tags.all()):
            changes["tags"] = wanted_tags
        return changes


def _pk(obj: Any) -> int | None:
    return obj.pk if obj is not None else None


class TicketCreateForm(forms.Form):
    """A ticket an agent logs by hand, e.g. from a phone call."""

    subject = forms.CharField(max_length=250)
    body = forms.CharField(label="What the customer said", widget=forms.Textarea(attrs={"rows": 6}))
    contact_name = forms.CharField(label="Customer name", required=False, max_length=200)
    contact_email = forms.EmailField(label="Customer email", required=False)
    contact_phone = forms.CharField(label="Customer phone", required=False, max_length=40)
    channel = forms.ChoiceField(widget=PlainSelect, choices=Channel.choices, initial=Channel.CALL)
    priority = forms.TypedChoiceField(widget=PlainSelect, choices=Priority.choices, coerce=int,
                                      initial=Priority.MEDIUM)
    department = forms.ModelChoiceField(widget=PlainSelect, queryset=Department.objects.none(), required=False,
                                        empty_label="No department")
    assignee = forms.ModelChoiceField(widget=PlainSelect, queryset=AgentProfile.objects.none(), required=False,
                                      empty_label="Unassigned")
    tags = forms.CharField(required=False, max_length=500, help_text="Comma separated.")

    def __init__(self, *args: Any, departments: Any, agents: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        self.fields["assignee"].queryset = agents
        self.fields["assignee"].label_from_instance = lambda agent: agent.display_name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not any(cleaned.get(name) for name in ("contact_name", "contact_email", "contact_phone")):
            self.add_error(None, "Give the customer's name, email or phone.")
        return cleaned

