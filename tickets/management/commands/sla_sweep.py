"""Runs the SLA sweep (due soon and breached announcements) in a loop, for the embedded setup of `make run`,
which has no Celery beat. With Redis, beat runs the same task instead."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from tickets.tasks import sla_sweep


class Command(BaseCommand):
    help = "Announce SLA targets that became due soon or breached, every SLA_SWEEP_SECONDS."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=float(settings.SLA_SWEEP_SECONDS),
                            help="Seconds between sweeps.")
        parser.add_argument("--once", action="store_true", help="Sweep once and exit.")

    def handle(self, *args, every: float, once: bool, **options) -> None:
        while True:
            sla_sweep()
            if once:
                return
            time.sleep(every)
