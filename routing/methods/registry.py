from routing.methods.base import RoutingMethod
from routing.methods.strategies import MaxUtilization, MeanUtilization, Priority, Random, RingAll, RoundRobin
from routing.models import Method

METHODS: dict[str, RoutingMethod] = {
    Method.RING_ALL: RingAll(),
    Method.ROUND_ROBIN: RoundRobin(),
    Method.MAX_UTILIZATION: MaxUtilization(),
    Method.MEAN_UTILIZATION: MeanUtilization(),
    Method.RANDOM: Random(),
    Method.PRIORITY: Priority(),
}


def method_get(name: str) -> RoutingMethod:
    return METHODS[name]
