"""Departments group agents; agent profiles carry what routing needs to know about each agent."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from helpdesk.models import validate_time_zone
from helpdesk.tenancy import TenantOwnedModel


class AgentStatus(models.TextChoices):
    ONLINE = "online", "Online"
    AWAY = "away", "Away"
    BREAK = "break", "Break"
    OFFLINE = "offline", "Offline"


PRIORITY_VALIDATORS = [MinValueValidator(1), MaxValueValidator(100)]


class AgentProfile(TenantOwnedModel):
    """One per membership: how the member appears and works as an agent of the tenant."""

    membership = models.OneToOneField("helpdesk.Membership", on_delete=models.CASCADE, related_name="agent")
    user = models.ForeignKey("helpdesk.User", on_delete=models.CASCADE, related_name="+")
    display_name = models.CharField(max_length=120)
    status = models.CharField(max_length=16, choices=AgentStatus.choices, default=AgentStatus.OFFLINE)
    # 1 is the highest priority, 100 the lowest.
    chat_priority = models.PositiveSmallIntegerField(default=50, validators=PRIORITY_VALIDATORS)
    max_chats = models.PositiveSmallIntegerField(default=3, validators=[MaxValueValidator(50)])
    call_priority = models.PositiveSmallIntegerField(default=50, validators=PRIORITY_VALIDATORS)
    max_calls = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(10)])
    takes_tickets = models.BooleanField(default=True)
    takes_chats = models.BooleanField(default=True)
    takes_calls = models.BooleanField(default=False)
    status_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["display_name", "id"]
        indexes = [models.Index(fields=["tenant", "status"], name="agent_tenant_status_idx")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def role(self) -> str:
        return self.membership.role


class Department(TenantOwnedModel):
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    # Unassigned tickets of a "To solve" department wait in the To solve queue; the first agent who opens one
    # from there takes it.
    to_solve_enabled = models.BooleanField(default=True)
    leader = models.ForeignKey(AgentProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    support_email = models.EmailField(blank=True)
    signature = models.TextField(blank=True)
    members = models.ManyToManyField(AgentProfile, through="DepartmentMember", related_name="departments")
    # The SLA of this department's tickets, unless a customer group's policy or a rule says otherwise.
    sla_policy = models.ForeignKey(
        "departments.SlaPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="department_name_unique_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.name


class DepartmentMember(TenantOwnedModel):
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="memberships")
    agent = models.ForeignKey(AgentProfile, on_delete=models.CASCADE, related_name="department_memberships")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "department", "agent"], name="department_member_unique"),
        ]
        indexes = [models.Index(fields=["tenant", "agent"], name="department_member_agent_idx")]


# --- business hours, SLA policies, email templates and canned responses ----------------------------------

class BusinessHours(TenantOwnedModel):
    """Opening hours: the tenant's (no department) or one department's, which then replace the tenant's.

    Stored in the form the API and settings page use; ``departments.schedules`` reads it into a value object.
    ``weekly``: {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...}, a shift whose end is not after its
    start runs across midnight. ``holidays``: [{"date": "2025-12-25", "name": "...", "recurring": true}].
    """

    department = models.OneToOneField(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="business_hours"
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    weekly = models.JSONField(default=dict)
    holidays = models.JSONField(default=list, blank=True)
    # The out-of-hours auto-reply: whether a customer writing while closed is told when the next opening is.
    out_of_hours_reply = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "business hours"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"], condition=models.Q(department__isnull=True), name="business_hours_one_per_tenant"
            ),
        ]


class SlaTarget(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class SlaPolicy(TenantOwnedModel):
    """Response and resolution targets per priority, in minutes of business time.

    ``targets``: {"urgent": {"first_response": 60, "next_response": 120, "resolution": 480}, "high": {...}};
    a priority or target left out has no target. ``customer_domains`` is the customer group: tickets from
    contacts whose email domain is listed get this policy, before the department's default.
    """

    name = models.CharField(max_length=120)
    targets = models.JSONField(default=dict)
    customer_domains = models.JSONField(default=list, blank=True)
    # The tenant's fallback when neither a customer group nor the department names a policy.
    is_default = models.BooleanField(default=False)
    due_soon_minutes = models.PositiveIntegerField(default=30, validators=[MaxValueValidator(24 * 60)])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="sla_policy_name_unique_per_tenant"),
            models.UniqueConstraint(
                fields=["tenant"], condition=models.Q(is_default=True), name="sla_policy_one_default_per_tenant"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def target_minutes(self, priority_name: str, target: str) -> int | None:
        return (self.targets.get(priority_name) or {}).get(target)


class TemplateKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", "Acknowledgement of a new ticket"
    OUT_OF_HOURS = "out_of_hours", "Out-of-hours auto-reply"
    REPLY = "reply", "Agent reply"
    RESOLVED = "resolved", "Ticket resolved"
    SATISFACTION = "satisfaction", "Satisfaction request"


class EmailTemplate(TenantOwnedModel):
    """The text of one kind of email; a department's replaces the tenant-wide one (no department).

    ``enabled`` off keeps the text but stops the automatic sending (acknowledgements, auto-replies, resolved
    and satisfaction mails); placeholders like {{customer_name}} are checked when saved.
    """

    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="email_templates"
    )
    kind = models.CharField(max_length=20, choices=TemplateKind.choices)
    subject = models.CharField(max_length=250)
    body = models.TextField()
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "id"]
        # Two partial constraints rather than nulls_distinct=False, which SQLite (the embedded default) lacks.
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "department", "kind"], condition=models.Q(department__isnull=False),
                name="email_template_unique_kind",
            ),
            models.UniqueConstraint(
                fields=["tenant", "kind"], condition=models.Q(department__isnull=True),
                name="email_template_unique_company_kind",
            ),
        ]


class CannedResponse(TenantOwnedModel):
    """A ready answer agents insert into a reply by its shortcut; a department's is offered on its tickets."""

    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_responses"
    )
    shortcut = models.SlugField(max_length=40)
    title = models.CharField(max_length=120)
    body = models.TextField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["shortcut", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "department", "shortcut"], condition=models.Q(department__isnull=False),
                name="canned_response_unique",
            ),
            models.UniqueConstraint(
                fields=["tenant", "shortcut"], condition=models.Q(department__isnull=True),
                name="canned_response_unique_company",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "shortcut"], name="canned_response_shortcut_idx")]
