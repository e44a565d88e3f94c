"""Keyset pagination: every page, however deep, is one index range scan, never an OFFSET.

A cursor holds the sort values of the last row shown (and the direction), encoded for use in a URL.
Orderings must end with the primary key so that every row has a unique position.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from helpdesk.errors import ApplicationError


@dataclass(frozen=True)
class KeysetPage:
    items: list
    next_cursor: str | None
    previous_cursor: str | None


def _encode(values: Sequence[Any], backwards: bool) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps({"v": plain, "b": backwards}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, fields: Sequence[str], model) -> tuple[list[Any], bool]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        values, backwards = data["v"], bool(data["b"])
        if not isinstance(values, list) or len(values) != len(fields):
            raise ValueError
        parsed = [
            model._meta.get_field(name.lstrip("-")).to_python(value)
            for name, value in zip(fields, values, strict=True)
        ]
    except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise ApplicationError("Invalid cursor.", fields={"cursor": ["This cursor is not valid."]}) from exc
    except Exception as exc:  # a field's to_python raises ValidationError for malformed values
        raise ApplicationError("Invalid cursor.", fields={"cursor": ["This cursor is not valid."]}) from exc
    return parsed, backwards


def _after(fields: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows strictly after ``values`` in the order of ``fields`` (all ascending or all descending).

    Written as ``a <= x AND (a < x OR (a = x AND b < y))`` (for descending): the leading bound lets
    PostgreSQL start the index scan at the cursor instead of filtering from the top.
    """
    descending = fields[0].startswith("-")
    op = "lt" if descending else "gt"
    op_eq = "lte" if descending else "gte"
    names = [f.lstrip("-") for f in fields]
    condition = Q(**{f"{names[-1]}__{op}": values[-1]})
    for name, value in zip(reversed(names[:-1]), reversed(values[:-1]), strict=True):
        condition = Q(**{f"{name}__{op}": value}) | (Q(**{name: value}) & condition)
    return Q(**{f"{names[0]}__{op_eq}": values[0]}) & condition


def _flip(fields: Sequence[str]) -> list[str]:
    return [f[1:] if f.startswith("-") else f"-{f}" for f in fields]


def keyset_paginate(queryset: QuerySet, *, ordering: Sequence[str], cursor: str | None, page_size: int) -> KeysetPage:
    directions = {f.startswith("-") for f in ordering}
    if len(directions) != 1 or ordering[-1].lstrip("-") not in ("id", "pk"):
        raise ValueError("Keyset orderings run in one direction and end with the primary key.")
    model = queryset.model
    backwards = False
    query_ordering = list(ordering)
    if cursor:
        values, backwards = _decode(cursor, ordering, model)
        if backwards:
            query_ordering = _flip(ordering)
        queryset = queryset.filter(_after(query_ordering, values))
    rows = list(queryset.order_by(*query_ordering)[: page_size + 1])
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()

    def key(row) -> list[Any]:
        # Rows are model instances, or dicts where a list reads plain values.
        if isinstance(row, dict):
            return [row[f.lstrip("-")] for f in ordering]
        return [getattr(row, f.lstrip("-")) for f in ordering]

    next_cursor = previous_cursor = None
    if rows:
        if (not backwards and has_more) or (backwards and cursor):
            next_cursor = _encode(key(rows[-1]), backwards=False)
        if (backwards and has_more) or (not backwards and cursor):
            previous_cursor = _encode(key(rows[0]), backwards=True)
    return KeysetPage(items=rows, next_cursor=next_cursor, previous_cursor=previous_cursor)
