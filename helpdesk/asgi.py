import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from channels_app.auth import TenantSessionAuthMiddleware  # noqa: E402
from channels_app.routing import visitor_websocket_urlpatterns, websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Chat visitors connect from the tenants' own websites; their socket checks the widget's sites itself.
        "websocket": URLRouter([
            *visitor_websocket_urlpatterns,
            re_path(r"", AllowedHostsOriginValidator(TenantSessionAuthMiddleware(URLRouter(websocket_urlpatterns)))),
        ]),
    }
)

# Everything alive now (the loaded project) lives as long as the process: keep it out of the garbage
# collector's full passes, which otherwise stall a request every few dozen.
gc.collect()
gc.freeze()
