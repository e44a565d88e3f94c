"""Reading pages in tests: which tickets a list shows, in order, and the flash messages after a redirect."""

from __future__ import annotations

import re

from django.contrib.messages import get_messages
from django.http import HttpResponse


def listed_codes(response: HttpResponse) -> list[str]:
    return re.findall(r'data-ticket="([A-Z0-9-]+)"', response.content.decode())


def link(response: HttpResponse, rel: str) -> str | None:
    match = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    return match.group(1).replace("&amp;", "&") if match else None


def flashes(response: HttpResponse) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]
