"""Live chat pages and endpoints: widget settings, the widget's public endpoints, the agent's chat panel."""

from django.urls import path

from routing import chat_views

urlpatterns = [
    path("settings/chat-widgets/", chat_views.widget_settings, name="chat-widget-settings"),
    path("settings/chat-widgets/<int:widget_id>/", chat_views.widget_edit, name="chat-widget-edit"),
    path("widget/demo/", chat_views.widget_demo, name="chat-widget-demo"),
    path("widget/api/status/", chat_views.widget_status, name="chat-widget-status"),
    path("widget/api/chats/", chat_views.widget_chat_start, name="chat-widget-start"),
    path("widget/api/messages/", chat_views.widget_offline_message, name="chat-widget-offline-message"),
    path("chats/", chat_views.chat_list, name="chat-list"),
    path("chats/targets/", chat_views.chat_transfer_targets, name="chat-transfer-targets"),
    path("chats/<int:ticket_id>/", chat_views.chat_detail, name="chat-detail"),
    path("chats/<int:ticket_id>/messages/", chat_views.chat_reply, name="chat-reply"),
    path("chats/<int:ticket_id>/end/", chat_views.chat_end, name="chat-end"),
    path("chats/<int:ticket_id>/transfer/", chat_views.chat_transfer, name="chat-transfer"),
]
