"""Forms of the business hours, SLA, email template and canned response settings pages.

They turn form fields into the stored shapes (weekly shifts, holiday lists, targets); the services validate.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from zoneinfo import available_timezones

from django import forms

from departments.models import Department, TemplateKind
from departments.schedules import WEEKDAYS

SHIFTS_PER_DAY = 3
DAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
                     strict=True))
TARGET_NAMES = (("first_response", "First response"), ("next_response", "Next response"),
                ("resolution", "Resolution"))
PRIORITY_NAMES = (("urgent", "Urgent"), ("high", "High"), ("medium", "Medium"), ("low", "Low"))
_HOLIDAY_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(.*?)\s*(\(yearly\))?$", re.IGNORECASE)


def _department_field(**kwargs: Any) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(queryset=Department.objects.order_by("name", "id"), required=False, **kwargs)


class BusinessHoursForm(forms.Form):
    """A weekly grid of up to three shifts a day (split shifts; an end before the start runs past midnight)."""

    time_zone = forms.ChoiceField(choices=[(z, z) for z in sorted(available_timezones())])
    out_of_hours_reply = forms.BooleanField(
        label="Out-of-hours auto-reply", required=False,
        help_text="Customers writing while closed are told when you open next (edit its text under Email templates).",
    )
    holidays = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One a line: 2025-12-25 Christmas (yearly). Leave out “(yearly)” for a one-off closure.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day in WEEKDAYS:
            for n in range(1, SHIFTS_PER_DAY + 1):
                for part in ("start", "end"):
                    self.fields[f"{day}_{n}_{part}"] = forms.CharField(
                        required=False, label=f"{DAY_NAMES[day]} shift {n} {part}",
                        widget=forms.TimeInput(attrs={"type": "time"}),
                    )

    @staticmethod
    def initial_for(hours: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {"time_zone": hours.time_zone, "out_of_hours_reply": hours.out_of_hours_reply}
        for day, shifts in hours.weekly.items():
            for n, (start, end) in enumerate(shifts[:SHIFTS_PER_DAY], start=1):
                initial[f"{day}_{n}_start"], initial[f"{day}_{n}_end"] = start, end
        initial["holidays"] = "\n".join(
            f"{h['date']} {h.get('name', '')}".strip() + (" (yearly)" if h.get("recurring") else "")
            for h in hours.holidays
        )
        return initial

    def grid(self) -> list[dict[str, Any]]:
        """Rows of the template's weekly table: each day with its shifts' start and end fields."""
        return [
            {"day": DAY_NAMES[day], "shifts": [(self[f"{day}_{n}_start"], self[f"{day}_{n}_end"])
                                               for n in range(1, SHIFTS_PER_DAY + 1)]}
            for day in WEEKDAYS
        ]

    def clean_holidays(self) -> list[dict[str, Any]]:
        holidays, problems = [], []
        for line in self.cleaned_data["holidays"].splitlines():
            line = line.strip()
            if not line:
                continue
            match = _HOLIDAY_RE.match(line)
            try:
                day = date.fromisoformat(match.group(1)) if match else None
            except ValueError:
                day = None
            if day is None:
                problems.append(f"“{line}”: start with a date, e.g. 2025-12-25 Christmas (yearly).")
                continue
            holidays.append({"date": day.isoformat(), "name": match.group(2), "recurring": bool(match.group(3))})
        if problems:
            raise forms.ValidationError(problems)
        return holidays

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        weekly: dict[str, list[list[str]]] = {}
        for day in WEEKDAYS:
            for n in range(1, SHIFTS_PER_DAY + 1):
                start = (cleaned.get(f"{day}_{n}_start") or "").strip()[:5]
                end = (cleaned.get(f"{day}_{n}_end") or "").strip()[:5]
                if start or end:
                    # "00:00" as an end means midnight; shifts are stored with 24:00 for a whole day's end.
                    weekly.setdefault(day, []).append([start, "24:00" if end == "00:00" and start != "00:00"
                                                       else end])
        cleaned["weekly"] = weekly
        return cleaned

    def service_data(self) -> dict[str, Any]:
        cleaned = self.cleaned_data
        return {"time_zone": cleaned["time_zone"], "weekly": cleaned["weekly"], "holidays": cleaned["holidays"],
                "out_of_hours_reply": cleaned["out_of_hours_reply"]}


class SlaPolicyForm(forms.Form):
    name = forms.CharField(max_length=120)
    is_default = forms.BooleanField(label="Company default", required=False,
                                    help_text="For tickets no department or customer group gives a policy.")
    due_soon_minutes = forms.IntegerField(label="Due soon warning (minutes before)", min_value=0, max_value=1440,
                                          initial=30)
    customer_domains = forms.CharField(
        label="Customer group (email domains)", required=False,
        help_text="Comma-separated, e.g. bigco.com, partner.org: their tickets get this policy first.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for priority, label in PRIORITY_NAMES:
            for target, target_label in TARGET_NAMES:
                self.fields[f"{priority}_{target}"] = forms.IntegerField(
                    required=False, min_value=1, label=f"{label}: {target_label} (business minutes)",
                    widget=forms.NumberInput(attrs={"min": 1, "inputmode": "numeric"}),
                )

    @staticmethod
    def initial_for(policy: Any) -> dict[str, Any]:
        initial = {"name": policy.name, "is_default": policy.is_default,
                   "due_soon_minutes": policy.due_soon_minutes,
                   "customer_domains": ", ".join(policy.customer_domains)}
        for priority, targets in policy.targets.items():
            for target, minutes in (targets or {}).items():
                initial[f"{priority}_{target}"] = minutes
        return initial

    def grid(self) -> list[dict[str, Any]]:
        return [{"priority": label, "fields": [self[f"{priority}_{target}"] for target, _ in TARGET_NAMES]}
                for priority, label in PRIORITY_NAMES]

    def service_data(self) -> dict[str, Any]:
        cleaned = self.cleaned_data
        targets: dict[str, dict[str, int]] = {}
        for priority, _ in PRIORITY_NAMES:
            for target, _ in TARGET_NAMES:
                if cleaned.get(f"{priority}_{target}"):
                    targets.setdefault(priority, {})[target] = cleaned[f"{priority}_{target}"]
        return {
            "name": cleaned["name"], "is_default": cleaned["is_default"], "targets": targets,
            "due_soon_minutes": cleaned["due_soon_minutes"],
            "customer_domains": [d.strip() for d in cleaned["customer_domains"].split(",") if d.strip()],
        }


class EmailTemplateForm(forms.Form):
    department = _department_field(empty_label="All departments (company-wide)")
    kind = forms.ChoiceField(choices=TemplateKind.choices)
    subject = forms.CharField(max_length=250)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}), strip=False)
    enabled = forms.BooleanField(required=False, initial=True,
                                 help_text="Sent automatically; off keeps the text without sending it.")


class CannedResponseForm(forms.Form):
    shortcut = forms.CharField(max_length=40, help_text="Agents type / and this in a reply, e.g. refund-policy.")
    title = forms.CharField(max_length=120)
    department = _department_field(empty_label="All departments")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), strip=False)
