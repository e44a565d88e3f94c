from django.urls import path

from departments.api import views

urlpatterns = [
    path("departments/", views.DepartmentListApi.as_view(), name="api-department-list"),
    path("departments/<int:department_id>/", views.DepartmentDetailApi.as_view(), name="api-department-detail"),
    path("agents/", views.AgentListApi.as_view(), name="api-agent-list"),
    path("agents/<int:agent_id>/", views.AgentDetailApi.as_view(), name="api-agent-detail"),
]
