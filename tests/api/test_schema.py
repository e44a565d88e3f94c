"""The OpenAPI document and the interactive docs, which must work without internet access."""

from __future__ import annotations

import re

from django.contrib.staticfiles import finders
from drf_spectacular.validation import validate_schema


def test_the_schema_is_valid_openapi_3_with_the_bearer_scheme(api_client, db):
    response = api_client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    scheme = schema["components"]["securitySchemes"]["apiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    operations = [op for item in schema["paths"].values() for op in item.values() if isinstance(op, dict)]
    assert operations and all(op.get("security") == [{"apiKey": []}] for op in operations)
    assert "/api/v1/tickets/{ticket_id}/events/" in schema["paths"]


def test_the_schema_documents_the_ticket_filters_and_orderings(api_client, db):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/tickets/"]["get"]["parameters"]}

    assert {"status", "department", "channel", "priority", "assignee", "tag", "created_after", "created_before",
            "updated_since", "q", "cursor", "page_size", "ordering", "sla_due_before", "sla_breached",
            "sla_policy"} <= set(parameters)
    assert parameters["ordering"]["schema"]["enum"] == [
        "-created_at", "created_at", "-updated_at", "updated_at", "sla_due"]
    assert parameters["updated_since"]["schema"] == {"type": "string", "format": "date-time"}


def test_the_docs_page_loads_only_local_files_that_exist(api_client, db):
    response = api_client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "SwaggerUIBundle" in html
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE), "external URL in the docs page"
    for word in ("cdn", "jsdelivr", "unpkg"):
        assert word not in html.lower()
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(references) >= 4
    for reference in references:
        assert reference.startswith("/static/"), reference
        assert finders.find(reference.removeprefix("/static/")), f"{reference} is not in the static files"
    assert '"/api/schema/"' in html
