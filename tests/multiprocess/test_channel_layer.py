"""The Redis channel layer as the servers configure it: an idle server must not lose its sockets.

channels-redis waits for messages with a blocking BZPOPMIN of ``brpop_timeout`` seconds. When the Redis
client's socket timeout is no longer than that, the read sometimes gives up just before Redis answers "nothing
yet"; the error ends the consumer, and the browser's socket is closed with 1011 while nobody did anything.
"""

from __future__ import annotations

from channels.layers import get_channel_layer
from channels_redis.utils import create_pool


def test_the_layer_waits_for_redis_longer_than_it_blocks_waiting_for_messages():
    layer = get_channel_layer()
    # The pool the layer makes for its first host, and a connection as it would open one (not opened here).
    connection = create_pool(layer.hosts[0]).make_connection()
    assert connection.socket_timeout is None or connection.socket_timeout > layer.brpop_timeout
