"""Helpers of the report page tests."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from tests.web.conftest import signed_in


def admin_browser(world) -> Client:
    return signed_in(world, world.admin.membership.user)


def last_days(days: int = 10) -> dict:
    today = timezone.now().date()
    return {"date_from": (today - timedelta(days=days)).isoformat(), "date_to": today.isoformat()}
