from django.conf import settings
from django.urls import include, path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from helpdesk import health, views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("tenants/", views.tenant_switch, name="tenant-switch"),
    path("settings/api-keys/", views.api_key_settings, name="api-key-settings"),
    path("settings/api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("", include("routing.urls")),
    path("", include("routing.chat_urls")),
    path("settings/", include("departments.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("helpdesk.api.urls")),
    path("api/v1/", include("routing.api.chat_urls")),
    path("", include("reports.urls")),
    path("", include("tickets.urls")),
]

if settings.DEBUG:
    urlpatterns += [path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})]
