from django.urls import path

from routing.api import rule_views, views

urlpatterns = [
    path("calls/", views.CallListApi.as_view(), name="api-call-list"),
    path("calls/<int:call_id>/", views.CallDetailApi.as_view(), name="api-call-detail"),
    path("calls/<int:call_id>/events/", views.CallEventApi.as_view(), name="api-call-events"),
    path("routing/decisions/", views.DecisionListApi.as_view(), name="api-decision-list"),
    path("routing/decisions/<int:decision_id>/", views.DecisionDetailApi.as_view(), name="api-decision-detail"),
    path("routing/offers/", views.OfferListApi.as_view(), name="api-offer-list"),
    path("routing/offers/<int:offer_id>/accept/", views.OfferAcceptApi.as_view(), name="api-offer-accept"),
    path("routing/offers/<int:offer_id>/decline/", views.OfferDeclineApi.as_view(), name="api-offer-decline"),
    path("routing/settings/", views.RoutingSettingsApi.as_view(), name="api-routing-settings"),
    path("routing/settings/changes/", views.SettingsChangeListApi.as_view(), name="api-routing-settings-changes"),
    path("rules/", rule_views.RuleListApi.as_view(), name="api-rule-list"),
    path("rules/dry-run/", rule_views.RuleDryRunApi.as_view(), name="api-rule-dry-run"),
    path("rules/changes/", rule_views.RuleChangeListApi.as_view(), name="api-rule-changes"),
    path("rules/<int:rule_id>/", rule_views.RuleDetailApi.as_view(), name="api-rule-detail"),
    path("rules/<int:rule_id>/move/", rule_views.RuleMoveApi.as_view(), name="api-rule-move"),
    path("rules/<int:rule_id>/dry-run/", rule_views.SavedRuleDryRunApi.as_view(), name="api-rule-saved-dry-run"),
]
