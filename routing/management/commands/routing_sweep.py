"""Runs the routing sweep (ring-outs, agents gone offline, lost work) in a loop, for the embedded setup of
`make run`, which has no Celery beat, and the time-based rules once a minute. With Redis, beat runs the same
tasks instead."""

import time

from django.core.management.base import BaseCommand

from routing.rules.tasks import rules_time_sweep
from routing.tasks import expire_offers_and_reconcile

RULES_EVERY_SECONDS = 60.0


class Command(BaseCommand):
    help = "Expire rung-out offers, set gone agents offline and re-route lost work, every few seconds."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=5.0, help="Seconds between sweeps.")
        parser.add_argument("--once", action="store_true", help="Sweep once and exit.")

    def handle(self, *args, every: float, once: bool, **options) -> None:
        rules_swept_at = None
        while True:
            expire_offers_and_reconcile()
            if rules_swept_at is None or time.monotonic() - rules_swept_at >= RULES_EVERY_SECONDS:
                rules_time_sweep()
                rules_swept_at = time.monotonic()
            if once:
                return
            time.sleep(every)
