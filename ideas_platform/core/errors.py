"""Domain errors: raised by services, carrying an untranslated message; translated on display."""

from __future__ import annotations

from ideas_platform.core.i18n import gettext


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.params = params

    def translated(self) -> str:
        return gettext(self.message, **self.params)


class NotFoundError(DomainError):
    status_code = 404


class PermissionError_(DomainError):
    status_code = 403


class ConflictError(DomainError):
    status_code = 409


class InvalidInput(DomainError):
    """One or more fields are invalid; `errors` maps field name -> untranslated message."""

    status_code = 422

    def __init__(self, errors: dict[str, str]) -> None:
        first = next(iter(errors.values()), "Invalid input.")
        super().__init__(first)
        self.errors = errors

    def translated_errors(self) -> dict[str, str]:
        return {field: gettext(message) for field, message in self.errors.items()}
