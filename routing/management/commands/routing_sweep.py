"""Runs the routing sweep (ring-outs, agents gone offline, lost work) in a loop, for the embedded setup of
`make run`, which has no Celery beat. With Redis, beat runs the same task instead."""

import time

from django.core.management.base import BaseCommand

from routing.tasks import expire_offers_and_reconcile


class Command(BaseCommand):
    help = "Expire rung-out offers, set gone agents offline and re-route lost work, every few seconds."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=5.0, help="Seconds between sweeps.")
        parser.add_argument("--once", action="store_true", help="Sweep once and exit.")

    def handle(self, *args, every: float, once: bool, **options) -> None:
        while True:
            expire_offers_and_reconcile()
            if once:
                return
            time.sleep(every)
