"""Domain errors: raised by services, carrying an untranslated message; translated on display.

Each error also has a stable machine `code` (snake_case English, never translated) that the JSON
API answers with: a class default, or a more specific one given where it is raised.
"""

from __future__ import annotations

from ideas_platform.core.i18n import gettext


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        **params: object,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.params = params
        if code is not None:
            self.code = code

    def translated(self) -> str:
        return gettext(self.message, **self.params)


class NotFoundError(DomainError):
    status_code = 404
    code = "not_found"


class PermissionError_(DomainError):
    status_code = 403
    code = "forbidden"


class ConflictError(DomainError):
    status_code = 409
    code = "conflict"


class InvalidInput(DomainError):
    """One or more fields are invalid; `errors` maps field name -> untranslated message."""

    status_code = 422
    code = "invalid_input"

    def __init__(self, errors: dict[str, str], *, code: str | None = None) -> None:
        first = next(iter(errors.values()), "Invalid input.")
        super().__init__(first, code=code)
        self.errors = errors

    def translated_errors(self) -> dict[str, str]:
        return {field: gettext(message) for field, message in self.errors.items()}
