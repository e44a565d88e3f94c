"""The demo data includes a chat widget per company, usable from the demo page of `make run`."""

from __future__ import annotations

import io
import re

from django.core.management import call_command

from helpdesk.models import Tenant
from helpdesk.tenancy import tenant_context
from routing import widgets
from routing.models import ChatWidget


def test_seed_demo_creates_one_widget_per_company_once_and_prints_its_demo_page(db):
    call_command("seed_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    urls = re.findall(r"Chat widget demo page: (\S+)", out.getvalue())
    assert len(urls) == 2 and all(u.startswith("http://127.0.0.1:8000/widget/demo/?key=hdw_") for u in urls)
    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            (widget,) = ChatWidget.objects.all()
            assert set(widget.allowed_origins) == {"http://127.0.0.1:8000", "http://localhost:8000"}
            assert f"key={widget.key}" in out.getvalue()
            assert widgets.widget_for_visitor(widget_id=widget.pk, origin="http://localhost:8000").pk == widget.pk
