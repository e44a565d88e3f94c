"""Settings pages, mounted under /settings/ next to the API keys page."""

from django.urls import path

from departments import views

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
]
