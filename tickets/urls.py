from django.urls import path

from tickets import reply_views, views
from tickets.models import MessageKind

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("inbox/counts/", views.inbox_counts, name="inbox-counts"),
    path("tickets/new/", views.ticket_new, name="ticket-new"),
    path("tickets/<str:code>/", views.ticket_detail, name="ticket-detail"),
    path("tickets/<str:code>/reply/", views.ticket_message_add, {"kind": MessageKind.REPLY}, name="ticket-reply"),
    path("tickets/<str:code>/note/", views.ticket_message_add, {"kind": MessageKind.NOTE}, name="ticket-note"),
    path("tickets/<str:code>/update/", views.ticket_properties_update, name="ticket-update"),
    path("tickets/<str:code>/take/", views.ticket_take, name="ticket-take"),
    path("tickets/<str:code>/canned-responses/", reply_views.ticket_canned_responses,
         name="ticket-canned-responses"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment-download"),
]
