from django.urls import path

from reports import views

urlpatterns = [
    path("reports/", views.report, name="report"),
    path("reports/export.csv", views.report_export, name="report-export"),
    path("reports/tickets/", views.report_tickets, name="report-tickets"),
    path("rate/<str:token>/", views.rating, name="rating"),
]
