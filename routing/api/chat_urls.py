from django.urls import path

from routing.api import chat_views

urlpatterns = [
    path("chats/", chat_views.ChatListApi.as_view(), name="api-chat-list"),
    path("chats/<int:ticket_id>/", chat_views.ChatDetailApi.as_view(), name="api-chat-detail"),
    path("chats/<int:ticket_id>/messages/", chat_views.ChatReplyApi.as_view(), name="api-chat-reply"),
    path("chats/<int:ticket_id>/end/", chat_views.ChatEndApi.as_view(), name="api-chat-end"),
    path("chats/<int:ticket_id>/transfer/", chat_views.ChatTransferApi.as_view(), name="api-chat-transfer"),
]
