from django.urls import path

from departments.api import hours, replies, views

urlpatterns = [
    path("departments/", views.DepartmentListApi.as_view(), name="api-department-list"),
    path("departments/<int:department_id>/", views.DepartmentDetailApi.as_view(), name="api-department-detail"),
    path("agents/", views.AgentListApi.as_view(), name="api-agent-list"),
    path("agents/<int:agent_id>/", views.AgentDetailApi.as_view(), name="api-agent-detail"),
    path("business-hours/", hours.BusinessHoursListApi.as_view(), name="api-business-hours-list"),
    path("business-hours/<int:hours_id>/", hours.BusinessHoursDetailApi.as_view(), name="api-business-hours-detail"),
    path("sla-policies/", hours.SlaPolicyListApi.as_view(), name="api-sla-policy-list"),
    path("sla-policies/<int:policy_id>/", hours.SlaPolicyDetailApi.as_view(), name="api-sla-policy-detail"),
    path("email-templates/", replies.EmailTemplateListApi.as_view(), name="api-email-template-list"),
    path("email-templates/<int:template_id>/", replies.EmailTemplateDetailApi.as_view(),
         name="api-email-template-detail"),
    path("canned-responses/", replies.CannedResponseListApi.as_view(), name="api-canned-response-list"),
    path("canned-responses/<int:canned_id>/", replies.CannedResponseDetailApi.as_view(),
         name="api-canned-response-detail"),
]
