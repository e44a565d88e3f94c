"""The routing side of the push bench: routes queued chats one after another, as the ``route_item`` task does,
and notes when each decision committed.

    python -m bench.push.driver --tenant 1 --first 1 --last 2000 --out /tmp/commits.json

Each item is one unit of work, ``tenant_context`` around ``routing.services.item_route``, on its own connection
as the application role. The commit time is taken by an on-commit callback registered before routing
registers its push, so it runs first, right after COMMIT and before the push is handed to the channel layer:
latency measured from it includes sending. ``time.time()`` is the machine's wall clock, which the client
process reads too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenant", type=int, required=True)
    parser.add_argument("--first", type=int, required=True, help="first routing item id")
    parser.add_argument("--last", type=int, required=True, help="last routing item id")
    parser.add_argument("--interval", type=float, default=0.0, help="pause between decisions, seconds")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.db import transaction

    from helpdesk.models import Tenant
    from helpdesk.tenancy import tenant_context
    from routing import services
    from routing.models import Offer

    tenant = Tenant.objects.get(pk=args.tenant)
    committed_at: dict[int, float] = {}
    sent_ms: list[float] = []  # from COMMIT to the push handed to the channel layer (the on-commit callbacks)
    unrouted = 0
    started = time.perf_counter()
    for item_id in range(args.first, args.last + 1):
        stamp: list[float] = []
        with tenant_context(tenant):
            transaction.on_commit(lambda stamp=stamp: stamp.append(time.time()))
            decision = services.item_route(item_id=item_id)
        done = time.time()
        if decision is None or not decision.winner_ids:
            unrouted += 1
        else:
            committed_at[decision.pk] = stamp[0]
            sent_ms.append((done - stamp[0]) * 1000)
        if args.interval:
            time.sleep(args.interval)
    seconds = time.perf_counter() - started
    with tenant_context(tenant):
        offers = list(Offer.objects.filter(decision_id__in=list(committed_at)).values_list(
            "id", "agent_id", "decision_id"))
    out = {"offers": {str(offer_id): {"agent_id": agent_id, "committed_at": committed_at[decision_id]}
                      for offer_id, agent_id, decision_id in offers},
           "decisions": len(committed_at), "unrouted": unrouted, "seconds": round(seconds, 2), "sent_ms": sent_ms}
    args.out.write_text(json.dumps(out))
    print(json.dumps({k: v for k, v in out.items() if k not in ("offers", "sent_ms")} | {"offer_count": len(offers)}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
