"""Departments group agents; agent profiles carry what routing needs to know about each agent."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

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
