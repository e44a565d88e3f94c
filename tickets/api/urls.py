from django.urls import path

from tickets.api import views

urlpatterns = [
    path("tickets/", views.TicketListApi.as_view(), name="api-ticket-list"),
    path("tickets/<int:ticket_id>/", views.TicketDetailApi.as_view(), name="api-ticket-detail"),
    path("tickets/<int:ticket_id>/messages/", views.TicketMessageListApi.as_view(), name="api-ticket-messages"),
    path("tickets/<int:ticket_id>/events/", views.TicketEventListApi.as_view(), name="api-ticket-events"),
]
