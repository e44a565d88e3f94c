"""The reports API's documented shapes (the view renders plain dicts built by the selector)."""

from __future__ import annotations

from rest_framework import serializers

from reports.selectors import COLUMNS, COUNT_COLUMNS, SECONDS_COLUMNS

_HELP = {
    "tickets_created": "Tickets created (every channel).",
    "tickets_resolved": "Times a ticket's status became resolved.",
    "answers": "Agent replies.",
    "avg_first_response_s": "Mean seconds from a ticket's creation to its first agent reply (new tickets).",
    "avg_response_s": "Mean seconds from a customer's message to the agent reply answering it (later replies).",
    "incoming_messages": "Customer messages, the first one of each ticket included.",
    "chats": "Chat tickets created.",
    "incoming_chats": "Chats started by visitors from a chat widget.",
    "finished_chats": "Chats ended after an agent answered.",
    "missed_chats": "Chats the visitor ended before any agent answered.",
    "chat_messages": "Customer messages and agent replies in chats.",
    "avg_chat_pickup_s": "Mean seconds from a chat's start to its first assignment to an agent.",
    "avg_chat_duration_s": "Mean seconds of chats ended by the agent, from pickup to end.",
    "calls": "Call tickets created.",
    "incoming_calls": "Calls received from the telephony provider.",
    "finished_calls": "Calls that ended after being answered.",
    "missed_calls": "Calls the caller hung up before anyone answered.",
    "call_minutes": "Minutes talked on finished calls.",
    "ratings_positive": "Good ratings given.",
    "ratings_positive_pct": "Good ratings as a percentage of good + bad + not rated.",
    "ratings_negative": "Bad ratings given.",
    "ratings_negative_pct": "Bad ratings as a percentage of good + bad + not rated.",
    "not_rated": "Resolutions of tickets that have no rating.",
    "not_rated_pct": "Not rated as a percentage of good + bad + not rated.",
    "sla_first_response_met_pct": "Percentage of first responses with an SLA target that met it (null: none "
                                   "had a target).",
    "sla_resolution_met_pct": "Percentage of resolutions with an SLA target (the ticket's latest, while still "
                               "resolved) that met it (null: none had a target).",
}


class ReportRowSerializer(serializers.Serializer):
    period_start = serializers.DateTimeField(help_text="Start of the row's bucket, in the report's time zone.")
    group_type = serializers.ChoiceField(choices=["department", "agent", "channel", "tag"])
    group_id = serializers.CharField(allow_null=True, help_text="Department, agent or tag id (a number), "
                                     "channel name; null for no department, unassigned, or no tags.")
    group_label = serializers.CharField()

    def get_fields(self) -> dict:
        fields = super().get_fields()
        for column in COLUMNS:
            if column in COUNT_COLUMNS:
                fields[column] = serializers.IntegerField(help_text=_HELP[column])
            else:
                unit = " Seconds." if column in SECONDS_COLUMNS else ""
                fields[column] = serializers.FloatField(allow_null=True, help_text=_HELP[column] + unit +
                                                        " Null when there is nothing to average.")
        return fields


class ReportSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    interval = serializers.CharField()
    group_by = serializers.CharField()
    time_zone = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    rows = ReportRowSerializer(many=True)
