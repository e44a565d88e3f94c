"""The rules settings pages, mounted at the site root beside the other settings."""

from django.urls import path

from routing import rule_views

urlpatterns = [
    path("settings/rules/", rule_views.rule_list, name="rule-list"),
    path("settings/rules/new/", rule_views.rule_new, name="rule-new"),
    path("settings/rules/<int:rule_id>/", rule_views.rule_edit, name="rule-edit"),
    path("settings/rules/<int:rule_id>/move/", rule_views.rule_move, name="rule-move"),
    path("settings/rules/<int:rule_id>/switch/", rule_views.rule_switch, name="rule-switch"),
    path("settings/rules/<int:rule_id>/delete/", rule_views.rule_delete, name="rule-delete"),
]
