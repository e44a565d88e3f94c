from django.urls import path

from channels_app import consumers, visitor

websocket_urlpatterns = [
    path("ws/agent/", consumers.AgentConsumer.as_asgi()),
]

# Opened from customers' websites: checked against each widget's own sites, not the allowed hosts.
visitor_websocket_urlpatterns = [
    path("ws/chat/", visitor.VisitorConsumer.as_asgi()),
]
