"""Forms of the settings pages. They parse input; departments.services decides what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation

from departments.models import AgentProfile, AgentStatus, SlaPolicy
from helpdesk.models import Role


class DepartmentForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    to_solve_enabled = forms.BooleanField(
        label="To solve queue", required=False, initial=True,
        help_text="Unassigned tickets wait in To solve; the first agent who opens one takes it.",
    )
    leader = forms.ModelChoiceField(queryset=AgentProfile.objects.none(), required=False, empty_label="No leader")
    support_email = forms.EmailField(required=False, help_text="Address customers write to for this department.")
    signature = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                help_text="Added below agents' replies.")
    sla_policy = forms.ModelChoiceField(
        label="SLA policy", queryset=SlaPolicy.objects.order_by("name", "id"), required=False,
        empty_label="Company default", help_text="Customers in an SLA customer group keep their group's policy.",
    )

    def __init__(self, *args: Any, agents: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = agents
        self.fields["leader"].label_from_instance = lambda agent: agent.display_name


def _priority_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=1, max_value=100, help_text="1 is the highest, 100 the lowest.")


class AgentForm(forms.Form):
    display_name = forms.CharField(max_length=120)
    role = forms.ChoiceField(choices=Role.choices)
    status = forms.ChoiceField(choices=AgentStatus.choices)
    chat_priority = _priority_field("Chat priority")
    max_chats = forms.IntegerField(label="Max chats at once", min_value=0, max_value=50)
    call_priority = _priority_field("Call priority")
    max_calls = forms.IntegerField(label="Max calls at once", min_value=0, max_value=10)
    takes_tickets = forms.BooleanField(required=False)
    takes_chats = forms.BooleanField(required=False)
    takes_calls = forms.BooleanField(required=False)

    @classmethod
    def initial_for(cls, agent: AgentProfile) -> dict[str, Any]:
        names = [name for name in cls.base_fields if name != "role"]
        return {"role": agent.membership.role, **{name: getattr(agent, name) for name in names}}


class AgentCreateForm(forms.Form):
    email = forms.EmailField()
    display_name = forms.CharField(max_length=120)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.AGENT)
    password = forms.CharField(
        label="Initial password", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Share it with the agent privately; an existing account keeps its own password.",
    )

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password
