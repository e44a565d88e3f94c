"""How the pages name the report's columns: headers in the table, and the items a count counts."""

from __future__ import annotations

COLUMN_LABELS = {
    "tickets_created": "Created", "tickets_resolved": "Resolved", "answers": "Answers",
    "avg_first_response_s": "First response", "avg_response_s": "Response", "incoming_messages": "Incoming",
    "chats": "Chats", "incoming_chats": "Incoming chats", "finished_chats": "Finished chats",
    "missed_chats": "Missed chats", "chat_messages": "Chat messages", "avg_chat_pickup_s": "Chat pickup",
    "avg_chat_duration_s": "Chat duration", "calls": "Calls", "incoming_calls": "Incoming calls",
    "finished_calls": "Finished calls", "missed_calls": "Missed calls", "call_minutes": "Call minutes",
    "ratings_positive": "Good", "ratings_positive_pct": "Good %", "ratings_negative": "Bad",
    "ratings_negative_pct": "Bad %", "not_rated": "Not rated", "not_rated_pct": "Not rated %",
    "sla_first_response_met_pct": "SLA first response %", "sla_resolution_met_pct": "SLA resolution %",
}

# What each count counts, one and many: "12 answers in 9 tickets".
COUNT_NOUNS = {
    "tickets_created": ("ticket created", "tickets created"),
    "tickets_resolved": ("resolution", "resolutions"),
    "answers": ("answer", "answers"),
    "incoming_messages": ("incoming message", "incoming messages"),
    "chats": ("chat", "chats"),
    "incoming_chats": ("incoming chat", "incoming chats"),
    "finished_chats": ("finished chat", "finished chats"),
    "missed_chats": ("missed chat", "missed chats"),
    "chat_messages": ("chat message", "chat messages"),
    "calls": ("call", "calls"),
    "incoming_calls": ("incoming call", "incoming calls"),
    "finished_calls": ("finished call", "finished calls"),
    "missed_calls": ("missed call", "missed calls"),
    "ratings_positive": ("good rating", "good ratings"),
    "ratings_negative": ("bad rating", "bad ratings"),
    "not_rated": ("resolution without a rating", "resolutions without a rating"),
}
# Counts of a ticket's own creation: at most one per ticket. Every other count can hold several of one ticket
# (its answers, its resolutions after reopening, its chat sessions and calls).
ONE_PER_TICKET = frozenset({"tickets_created", "chats", "calls", "incoming_calls"})
