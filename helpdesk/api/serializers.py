"""Building blocks of the API's input serializers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from helpdesk.filters import MAX_ID

# Comments rather than docstrings on these base classes: the schema would show a base's docstring as the
# description of every serializer without its own.


class StrictInputSerializer(serializers.Serializer):
    # An input serializer that refuses keys it does not know. A misspelt or read-only field ("asignee",
    # "code") is a client's mistake; ignoring it would answer 200 while not doing what was asked.

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(key) for key in data if key not in known)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


def _parse_id(field: serializers.Field, data: Any) -> int:
    if isinstance(data, bool):
        field.fail("invalid")
    if isinstance(data, str) and data.isascii() and data.isdigit():
        data = int(data)
    if not isinstance(data, int) or not 0 < data <= MAX_ID:
        field.fail("invalid")
    return data


@extend_schema_field(OpenApiTypes.INT)
class TenantObjectField(serializers.Field):
    """An id of one of the acting tenant's objects, given as the object itself to services.

    The lookup goes through the model's tenant-scoped manager, so another tenant's id is "no such object"
    exactly like an id that does not exist.
    """

    default_error_messages = {
        "invalid": "Give the id (a whole number).",
        "does_not_exist": "No such {noun}.",
    }

    def __init__(self, *, model: type[models.Model], noun: str, **kwargs: Any):
        self.model = model
        self.noun = noun
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> models.Model:
        pk = _parse_id(self, data)
        obj = self.model.objects.filter(pk=pk).first()
        if obj is None:
            self.fail("does_not_exist", noun=self.noun)
        return obj

    def to_representation(self, value: models.Model) -> int:
        return value.pk


@extend_schema_field({"type": "array", "items": {"type": "integer"}})
class TenantObjectListField(serializers.Field):
    """A list of ids of the acting tenant's objects, looked up in one query."""

    default_error_messages = {
        "not_a_list": "Give a list of ids.",
        "invalid": "Give the ids as whole numbers.",
        "does_not_exist": "No such {noun}: {ids}.",
    }

    def __init__(self, *, model: type[models.Model], noun: str, **kwargs: Any):
        self.model = model
        self.noun = noun
        super().__init__(**kwargs)

    def get_value(self, dictionary: Mapping) -> Any:
        # A form-encoded body repeats the key for each id.
        if hasattr(dictionary, "getlist") and self.field_name in dictionary:
            return dictionary.getlist(self.field_name)
        return super().get_value(dictionary)

    def to_internal_value(self, data: Any) -> list[models.Model]:
        if not isinstance(data, list | tuple):
            self.fail("not_a_list")
        ids = [_parse_id(self, item) for item in data]
        found = {obj.pk: obj for obj in self.model.objects.filter(pk__in=ids)}
        missing = [pk for pk in dict.fromkeys(ids) if pk not in found]
        if missing:
            self.fail("does_not_exist", noun=self.noun, ids=", ".join(str(pk) for pk in missing))
        return [found[pk] for pk in dict.fromkeys(ids)]

    def to_representation(self, value: Any) -> list[int]:
        return [obj.pk for obj in value]
