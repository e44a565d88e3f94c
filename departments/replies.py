"""Email templates and canned responses: their placeholders, validation, and the settings admins write.

Placeholders are written ``{{customer_name}}`` (spaces inside the braces allowed). The set is closed: an
unknown name is refused when the text is saved, so sending never meets one. Rendering is plain substitution
into plain text, never a template engine, so a customer's name cannot run code or inject markup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from departments.models import CannedResponse, Department, EmailTemplate, TemplateKind
from departments.services import require_admin
from helpdesk.errors import ApplicationError, NotFound
from helpdesk.principals import Actor
from helpdesk.tenancy import require_active_tenant

PLACEHOLDERS: dict[str, str] = {
    "customer_name": "The customer's name (or email when they gave no name).",
    "ticket_code": "The ticket's code, e.g. 7KQ4-M2XP.",
    "ticket_subject": "The ticket's subject.",
    "agent_name": "The agent who replies or resolves (empty in automatic emails).",
    "department": "The ticket's department.",
    "sla_due": "When the next answer is due under the ticket's SLA, in the department's time zone.",
    "expected_response": "How long until the first answer, e.g. \"within 4 business hours\".",
    "next_opening": "When the department opens next (out-of-hours replies).",
    "message": "The agent's reply text (reply emails).",
    "signature": "The department's signature.",
    "rating_link": "The link where the customer rates the ticket good or bad, with a comment (resolved and "
                   "satisfaction mails; it works once the ticket is resolved).",
}
_PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def placeholders_unknown(text: str) -> list[str]:
    return sorted({name for name in _PLACEHOLDER_RE.findall(text) if name not in PLACEHOLDERS})


def placeholders_render(text: str, values: Mapping[str, str]) -> str:
    """Fill in placeholders; one that has no value in this situation becomes empty text."""
    return _PLACEHOLDER_RE.sub(lambda m: str(values.get(m.group(1), "")), text)


def _placeholder_errors(**texts: str) -> dict[str, list[str]]:
    errors = {}
    for field, text in texts.items():
        unknown = placeholders_unknown(text or "")
        if unknown:
            errors[field] = [
                f"Unknown placeholder {{{{{name}}}}}; use one of: {', '.join(sorted(PLACEHOLDERS))}."
                for name in unknown
            ]
    return errors


def _check_department(department: Department | None) -> None:
    if department is not None and department.tenant_id != require_active_tenant().pk:
        raise NotFound("No such department.", fields={"department": ["No such department."]})


# --- email templates --------------------------------------------------------------------------------------

# The texts a new resolved or satisfaction template starts from (the settings page fills them in); both ask
# for a rating, since the customer can only rate through the link a mail carries.
DEFAULT_TEXTS: dict[str, tuple[str, str]] = {
    TemplateKind.RESOLVED: (
        "Resolved: {{ticket_subject}} [{{ticket_code}}]",
        "Hello {{customer_name}},\n\nwe have resolved your request {{ticket_code}}. If something is still "
        "not right, just reply to this email.\n\nHow did we do? Rate our answer here: {{rating_link}}"
        "\n\n{{signature}}",
    ),
    TemplateKind.SATISFACTION: (
        "How did we do? [{{ticket_code}}]",
        "Hello {{customer_name}},\n\nyour request {{ticket_code}} ({{ticket_subject}}) was resolved. Was our "
        "help good or bad? Tell us in one click, with a comment if you like:\n\n{{rating_link}}"
        "\n\n{{signature}}",
    ),
}

TEMPLATE_FIELDS = ("subject", "body", "enabled")


def _save_template(template: EmailTemplate) -> EmailTemplate:
    errors: dict[str, list[str]] = {}
    if template.kind not in TemplateKind.values:
        errors["kind"] = [f"Choose one of {', '.join(TemplateKind.values)}."]
    template.subject = (template.subject or "").strip()
    if not template.subject:
        errors["subject"] = ["This field is required."]
    elif len(template.subject) > 250:
        errors["subject"] = ["At most 250 characters."]
    if not (template.body or "").strip():
        errors["body"] = ["This field is required."]
    errors.update({k: v for k, v in _placeholder_errors(subject=template.subject, body=template.body).items()
                   if k not in errors})
    if errors:
        raise ApplicationError("Please correct the template.", fields=errors)
    template.updated_at = timezone.now()
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError as exc:
        raise ApplicationError("There is already a template of this kind here: change that one.",
                               fields={"kind": ["A template of this kind exists already."]}) from exc
    return template


def email_template_create(
    *, actor: Actor, kind: str, subject: str, body: str, department: Department | None = None, enabled: bool = True,
) -> EmailTemplate:
    require_admin(actor)
    _check_department(department)
    return _save_template(EmailTemplate(tenant=require_active_tenant(), department=department, kind=kind,
                                        subject=subject, body=body, enabled=enabled))


def email_template_update(*, actor: Actor, template: EmailTemplate, **fields: Any) -> EmailTemplate:
    require_admin(actor)
    unknown = set(fields) - set(TEMPLATE_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    changed = EmailTemplate(**{f.attname: getattr(template, f.attname) for f in EmailTemplate._meta.concrete_fields})
    for name, value in fields.items():
        setattr(changed, name, value)
    return _save_template(changed)


def email_template_delete(*, actor: Actor, template: EmailTemplate) -> None:
    require_admin(actor)
    template.delete()


def email_template_list(*, department_id: int | None = None) -> list[EmailTemplate]:
    rows = EmailTemplate.objects.select_related("department")
    if department_id is not None:
        rows = rows.filter(department_id=department_id)
    return list(rows.order_by(F("department_id").asc(nulls_first=True), "kind", "id"))


def email_template_get(*, template_id: int) -> EmailTemplate:
    template = EmailTemplate.objects.select_related("department").filter(pk=template_id).first()
    if template is None:
        raise NotFound("No such template.", fields={"template_id": ["No such template."]})
    return template


def email_template_for(*, department_id: int | None, kind: str) -> EmailTemplate | None:
    """The department's template of this kind, else the tenant-wide one (enabled or not: callers decide)."""
    rows = EmailTemplate.objects.filter(kind=kind).filter(Q(department__isnull=True) | Q(department_id=department_id))
    return rows.order_by(F("department_id").asc(nulls_last=True)).first()


# --- canned responses -------------------------------------------------------------------------------------

CANNED_FIELDS = ("shortcut", "title", "body", "department")
_SHORTCUT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _save_canned(canned: CannedResponse) -> CannedResponse:
    errors: dict[str, list[str]] = {}
    canned.shortcut = (canned.shortcut or "").strip().lower().lstrip("/")
    if not _SHORTCUT_RE.match(canned.shortcut):
        errors["shortcut"] = ["Use 1 to 40 letters, digits, - or _, e.g. refund-policy."]
    canned.title = (canned.title or "").strip()[:120]
    if not canned.title:
        errors["title"] = ["This field is required."]
    if not (canned.body or "").strip():
        errors["body"] = ["This field is required."]
    errors.update({k: v for k, v in _placeholder_errors(body=canned.body).items() if k not in errors})
    if errors:
        raise ApplicationError("Please correct the canned response.", fields=errors)
    _check_department(canned.department)
    canned.updated_at = timezone.now()
    try:
        with transaction.atomic():
            canned.save()
    except IntegrityError as exc:
        raise ApplicationError("This shortcut is taken.", fields={"shortcut": ["This shortcut is taken."]}) from exc
    return canned


def canned_response_create(
    *, actor: Actor, shortcut: str, title: str, body: str, department: Department | None = None,
) -> CannedResponse:
    require_admin(actor)
    return _save_canned(CannedResponse(tenant=require_active_tenant(), department=department, shortcut=shortcut,
                                       title=title, body=body))


def canned_response_update(*, actor: Actor, canned: CannedResponse, **fields: Any) -> CannedResponse:
    require_admin(actor)
    unknown = set(fields) - set(CANNED_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    changed = CannedResponse(
        **{f.attname: getattr(canned, f.attname) for f in CannedResponse._meta.concrete_fields})
    for name, value in fields.items():
        setattr(changed, name, value)
    return _save_canned(changed)


def canned_response_delete(*, actor: Actor, canned: CannedResponse) -> None:
    require_admin(actor)
    canned.delete()


def canned_response_list() -> QuerySet[CannedResponse]:
    return CannedResponse.objects.select_related("department").order_by("shortcut", "id")


def canned_response_get(*, canned_id: int) -> CannedResponse:
    canned = CannedResponse.objects.select_related("department").filter(pk=canned_id).first()
    if canned is None:
        raise NotFound("No such canned response.")
    return canned


def canned_response_search(*, department_id: int | None, query: str = "", limit: int = 20) -> list[CannedResponse]:
    """Responses usable on a ticket of this department (its own and the tenant-wide ones), best matches first:
    shortcuts starting with the query, then titles or shortcuts containing it."""
    query = query.strip().lower().lstrip("/")
    rows = CannedResponse.objects.filter(Q(department__isnull=True) | Q(department_id=department_id))
    if query:
        rows = rows.filter(Q(shortcut__startswith=query) | Q(shortcut__contains=query) | Q(title__icontains=query))
    found = list(rows.select_related("department").order_by("shortcut", "id")[:200])
    found.sort(key=lambda c: (not c.shortcut.startswith(query), c.department_id is None, c.shortcut))
    return found[:limit]


# --- preview ----------------------------------------------------------------------------------------------

SAMPLE_VALUES = {
    "customer_name": "Jane Doe",
    "ticket_code": "7KQ4-M2XP",
    "ticket_subject": "My printer is on fire",
    "agent_name": "Alex Agent",
    "sla_due": "Mon 10 Mar 2025, 13:00 (Europe/Berlin)",
    "expected_response": "within 4 business hours",
    "next_opening": "Mon 10 Mar 2025, 09:00 (Europe/Berlin)",
    "message": "Please unplug it and tell us what you see.",
}


def _sample_values() -> dict[str, str]:
    return {**SAMPLE_VALUES, "rating_link": f"{settings.PUBLIC_BASE_URL}/rate/sample-token/"}


def email_template_preview(*, subject: str, body: str, department: Department | None) -> tuple[str, str]:
    """The template filled in for a sample ticket, or field errors for unknown placeholders (as at save time)."""
    errors = _placeholder_errors(subject=subject, body=body)
    if errors:
        raise ApplicationError("Please correct the template.", fields=errors)
    values = {**_sample_values(), "department": department.name if department else require_active_tenant().name,
              "signature": department.signature if department else ""}
    return placeholders_render(subject, values), placeholders_render(body, values)
