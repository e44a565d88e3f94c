"""One error type for business rules, turned into one JSON shape by the API and a form error by pages."""

from __future__ import annotations


class ApplicationError(Exception):
    """A request that breaks a business rule. ``fields`` maps field names to messages, like a form's errors."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class NotFound(ApplicationError):
    """Missing, or belongs to someone who may not see it: the two answer alike."""

    status_code = 404
    code = "not_found"


class PermissionDenied(ApplicationError):
    status_code = 403
    code = "permission_denied"


class Conflict(ApplicationError):
    status_code = 409
    code = "conflict"
