"""Tenancy and accounts: who the tenants are, who may act in them, and with which role."""

from __future__ import annotations

import hashlib
import zoneinfo

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from helpdesk.tenancy import TenantOwnedModel


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone.")


class Tenant(models.Model):
    """A company that serves its customers here. Holds no customer data, so it has no row-level security."""

    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in by email; belongs to tenants through memberships."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.full_name or self.email


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    AGENT = "agent", "Agent"


ADMIN_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class Membership(models.Model):
    """A user's place in a tenant. Read before the tenant is known (at login), so it has no row-level security;
    it holds no customer data, only who belongs where with which role."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_per_tenant")]
        indexes = [models.Index(fields=["user", "tenant"], name="membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES


class ApiKey(models.Model):
    """A tenant's key for the REST API. Only a SHA-256 hash is stored; the key is shown once at creation.
    Looked up by hash before the tenant is known, so it has no row-level security."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ADMIN)
    # An agent-role key acts as this member: it sees what that agent sees.
    membership = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    prefix = models.CharField(max_length=16, help_text="First characters of the key, to tell keys apart.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="apikey_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class PushStream(TenantOwnedModel):
    """The sequence counter of one push stream (an agent's, or a chat's for its visitor).

    Its row is locked from the moment an event takes a number until the transaction commits, so a stream's
    events commit in sequence order: a client that has seen number N has seen everything before it.
    """

    key = models.CharField(max_length=40)
    last_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="push_stream_key_unique")]


class PushEvent(TenantOwnedModel):
    """A push, persisted before it is sent: the channel layer delivers at most once, so the socket message is
    only a hint and this row is what a reconnecting client is given again."""

    stream = models.CharField(max_length=40)
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "stream", "seq"], name="push_event_stream_seq_unique")
        ]
        indexes = [models.Index(fields=["created_at"], name="push_event_created_idx")]
