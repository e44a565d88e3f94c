"""Assertions shared by the API tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from drf_spectacular.generators import SchemaGenerator

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def error_of(response, status: int) -> dict[str, Any]:
    """The error of a response, checked to have the API's one error shape and the expected status."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def field_errors(response) -> dict[str, list[str]]:
    """The field messages of a 400 response."""
    return error_of(response, 400)["fields"]


def results(response) -> list[dict[str, Any]]:
    assert response.status_code == 200, (response.status_code, response.content[:500])
    return response.json()["results"]


def ids(response) -> list[int]:
    return [row["id"] for row in results(response)]


def api_schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def schema_operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (path, method, operation) the generated OpenAPI schema lists."""
    for path, item in sorted(api_schema()["paths"].items()):
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]
