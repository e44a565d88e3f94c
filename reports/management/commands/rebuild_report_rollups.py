"""Rebuild a tenant's report rollups from the system log, for a range of dates or from scratch."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser

from helpdesk.models import Tenant
from helpdesk.tenancy import tenant_context
from reports import rollups


class Command(BaseCommand):
    help = ("Recompute report rollups of a tenant from its system log. With --from/--to (dates in the tenant's "
            "time zone), only those days; without, everything, from scratch.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        parser.add_argument("--from", dest="date_from", type=date.fromisoformat)
        parser.add_argument("--to", dest="date_to", type=date.fromisoformat)

    def handle(self, *args, tenant: str, date_from: date | None, date_to: date | None, **options) -> None:
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant {tenant!r}.")
        if (date_from is None) != (date_to is None):
            raise CommandError("Give both --from and --to, or neither.")
        if date_from is not None:
            if date_from > date_to:
                raise CommandError("--from is after --to.")
            zone = rollups.tenant_zone(found.time_zone)
            start = datetime(date_from.year, date_from.month, date_from.day, tzinfo=zone)
            end = datetime(date_to.year, date_to.month, date_to.day, tzinfo=zone) + timedelta(days=1)
            with tenant_context(found):
                done = rollups.rollup_rebuild(start=rollups.floor_hour(start), end=end)
            if not done:
                self.stdout.write("Nothing is rolled up yet: run without --from/--to first.")
                return
            self.stdout.write(f"Rebuilt {date_from} to {date_to} for {found.slug}.")
            return
        with tenant_context(found):
            rollups.rollup_reset()
        runs = 0
        # One transaction per run, so a long history is rolled up in steps that each commit.
        while True:
            runs += 1
            with tenant_context(found):
                done = rollups.rollup_run()
            if done["hours"] < rollups.MAX_HOURS_PER_RUN and done["days"] < rollups.MAX_HOURS_PER_RUN // 24:
                break
        self.stdout.write(f"Rolled up {found.slug} from scratch in {runs} runs.")
