from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from helpdesk.models import ApiKey, Membership, User
from helpdesk.principals import Actor, actor_for_api_key


def actor_for_raw_api_key(*, raw_key: str) -> Actor | None:
    api_key = (
        ApiKey.objects.select_related("tenant", "membership__tenant", "membership__user")
        .filter(key_hash=ApiKey.hash_key(raw_key), revoked_at__isnull=True)
        .first()
    )
    if api_key is None:
        return None
    now = timezone.now()
    # Writing on every request would make each API call a write; once a minute is precise enough.
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return actor_for_api_key(api_key)


def membership_list_for_user(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("tenant").order_by("tenant__name", "tenant_id")


def membership_for_session(*, user: User, tenant_id: int | None) -> Membership | None:
    return membership_choose(list(membership_list_for_user(user=user)), tenant_id=tenant_id)


def membership_choose(memberships: list[Membership], *, tenant_id: int | None) -> Membership | None:
    """The session's tenant if the user still belongs to it, else their first."""
    for membership in memberships:
        if membership.tenant_id == tenant_id:
            return membership
    return memberships[0] if memberships else None


def api_key_list(*, actor: Actor) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(tenant=actor.tenant).select_related("membership__user").order_by("-created_at")
