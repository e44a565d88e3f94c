from django.urls import include, path

urlpatterns = [
    path("", include("departments.api.urls")),
    path("", include("tickets.api.urls")),
]
