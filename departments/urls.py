"""Settings pages, mounted under /settings/ next to the API keys page."""

from django.urls import path

from departments import sla_views, views

urlpatterns = [
    path("", views.settings_home, name="settings"),
    path("status/", views.agent_status_set, name="agent-status"),
    path("departments/", views.department_list, name="department-list"),
    path("departments/new/", views.department_create, name="department-create"),
    path("departments/<int:department_id>/", views.department_detail, name="department-detail"),
    path("departments/<int:department_id>/members/add-all/", views.department_members_all, {"action": "add"},
         name="department-members-add-all"),
    path("departments/<int:department_id>/members/remove-all/", views.department_members_all,
         {"action": "remove"}, name="department-members-remove-all"),
    path("departments/<int:department_id>/members/<int:agent_id>/add/", views.department_member_toggle,
         {"action": "add"}, name="department-member-add"),
    path("departments/<int:department_id>/members/<int:agent_id>/remove/", views.department_member_toggle,
         {"action": "remove"}, name="department-member-remove"),
    path("agents/", views.agent_list, name="agent-list"),
    path("agents/new/", views.agent_create, name="agent-create"),
    path("agents/<int:agent_id>/", views.agent_edit, name="agent-edit"),
    path("business-hours/", sla_views.business_hours_list, name="business-hours-list"),
    path("business-hours/new/", sla_views.business_hours_edit, name="business-hours-create"),
    path("business-hours/<int:hours_id>/", sla_views.business_hours_edit, name="business-hours-edit"),
    path("business-hours/<int:hours_id>/delete/", sla_views.business_hours_delete, name="business-hours-delete"),
    path("sla/", sla_views.sla_policy_list, name="sla-policy-list"),
    path("sla/new/", sla_views.sla_policy_edit, name="sla-policy-create"),
    path("sla/<int:policy_id>/", sla_views.sla_policy_edit, name="sla-policy-edit"),
    path("sla/<int:policy_id>/delete/", sla_views.sla_policy_delete, name="sla-policy-delete"),
    path("email-templates/", sla_views.email_template_list, name="email-template-list"),
    path("email-templates/new/", sla_views.email_template_edit, name="email-template-create"),
    path("email-templates/<int:template_id>/", sla_views.email_template_edit, name="email-template-edit"),
    path("email-templates/<int:template_id>/delete/", sla_views.email_template_delete,
         name="email-template-delete"),
    path("canned-responses/", sla_views.canned_response_list, name="canned-response-list"),
    path("canned-responses/new/", sla_views.canned_response_edit, name="canned-response-create"),
    path("canned-responses/<int:canned_id>/", sla_views.canned_response_edit, name="canned-response-edit"),
    path("canned-responses/<int:canned_id>/delete/", sla_views.canned_response_delete,
         name="canned-response-delete"),
]
