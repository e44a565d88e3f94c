from django.urls import include, path

from helpdesk.api.views import TenantApi

urlpatterns = [
    path("tenant/", TenantApi.as_view(), name="api-tenant"),
    path("", include("departments.api.urls")),
    path("", include("tickets.api.urls")),
    path("", include("routing.api.urls")),
    path("", include("reports.api.urls")),
]
