from __future__ import annotations

import secrets

from django.db import transaction

from helpdesk.errors import ApplicationError
from helpdesk.models import ADMIN_ROLES, ApiKey, Membership, Role, Tenant, User

API_KEY_PREFIX = "hdk_"


def tenant_create(*, slug: str, name: str, time_zone: str = "UTC") -> Tenant:
    tenant = Tenant(slug=slug, name=name, time_zone=time_zone)
    tenant.full_clean()
    tenant.save()
    return tenant


def user_get_or_create(*, email: str, full_name: str = "", password: str | None = None) -> User:
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, full_name=full_name)
    return user


def api_key_create(
    *, tenant: Tenant, name: str, role: str = Role.ADMIN, membership: Membership | None = None,
    created_by: User | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its raw value, which is not stored and cannot be shown again."""
    name = name.strip()
    if not name:
        raise ApplicationError("A key needs a name.", fields={"name": ["This field is required."]})
    if role not in Role.values:
        raise ApplicationError("Unknown role.", fields={"role": [f"Choose one of {', '.join(Role.values)}."]})
    if role not in ADMIN_ROLES and membership is None:
        raise ApplicationError(
            "An agent key acts as an agent.", fields={"agent": ["Choose the agent this key acts as."]}
        )
    if membership is not None and membership.tenant_id != tenant.pk:
        raise ApplicationError("Unknown agent.", fields={"agent": ["No such agent in this tenant."]})
    raw_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            tenant=tenant, name=name[:100], role=role, membership=membership, prefix=raw_key[:12],
            key_hash=ApiKey.hash_key(raw_key), created_by=created_by,
        )
    return api_key, raw_key


def api_key_revoke(*, api_key: ApiKey) -> None:
    from django.utils import timezone

    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
