from django.urls import path

from reports.api import views

urlpatterns = [
    path("reports/departments/", views.DepartmentReportApi.as_view(), name="api-report-departments"),
]
