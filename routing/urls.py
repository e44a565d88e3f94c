"""Routing pages, mounted at the site root beside the inbox."""

from django.urls import include, path

from routing import views

urlpatterns = [
    path("settings/routing/", views.routing_settings, name="routing-settings"),
    path("", include("routing.rule_urls")),
    path("offers/<int:offer_id>/accept/", views.offer_accept, name="offer-accept"),
    path("offers/<int:offer_id>/decline/", views.offer_decline, name="offer-decline"),
]
