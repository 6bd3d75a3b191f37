"""Domain errors: what went wrong, for whom, and how to fix it.

The calculus core raises these; the HTTP layer (``service.api.problems``) turns every one
into an RFC 9457 problem+json response. Nothing here knows about Flask.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of the request.

    ``field`` is a JSON-pointer-like path (``expression``, ``point/y``, ``expressions/2``);
    ``position`` is the 0-based character offset in an expression, when there is one.
    """

    field: str | None
    message: str
    position: int | None = None

    def as_dict(self) -> dict:
        out = {"field": self.field or "", "message": self.message}
        if self.position is not None:
            out["position"] = self.position
        return out


class ServiceError(Exception):
    """Base of every error the service reports to a client."""

    status = 422
    slug = "invalid-request"
    title = "Invalid request"

    def __init__(self, detail: str, errors: list[FieldError] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors or [])

    def __reduce__(self):
        # Errors cross a process boundary (service.compute): keep every attribute.
        return (_restore, (type(self), self.detail, self.__dict__))

    def at_field(self, field: str) -> ServiceError:
        """Return this error with every field-less entry attributed to ``field``.

        The parser does not know which request field its text came from; the caller does.
        """
        self.errors = [
            e if e.field else replace(e, field=field) for e in self.errors
        ] or [FieldError(field, self.detail)]
        return self


class InvalidInput(ServiceError):
    """The request is well-formed JSON but asks for something invalid."""

    slug = "invalid-input"
    title = "Invalid input"

    def __init__(self, field: str | None, message: str, position: int | None = None):
        super().__init__(message, [FieldError(field, message, position)])


class ExpressionError(InvalidInput):
    """An expression could not be parsed; carries the character position."""

    slug = "invalid-expression"
    title = "Invalid expression"

    def __init__(self, message: str, position: int | None, field: str | None = None):
        super().__init__(field, message, position)
        self.position = position


class LimitExceeded(ServiceError):
    """A configured limit was exceeded; names the limit, its value and the variable."""

    slug = "limit-exceeded"
    title = "Limit exceeded"

    def __init__(self, what: str, limit: int | float, env_var: str,
                 field: str | None = None, position: int | None = None):
        message = (
            f"{what}; the limit is {limit:,} "
            f"(set the environment variable {env_var} to change it)"
        )
        super().__init__(message, [FieldError(field, message, position)])
        self.limit = limit
        self.env_var = env_var


class TimeBudgetExceeded(ServiceError):
    """The computation ran past the per-request time budget and was stopped."""

    slug = "time-budget-exceeded"
    title = "Time budget exceeded"


class NotJSON(ServiceError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class MalformedBody(ServiceError):
    status = 400
    slug = "malformed-body"
    title = "Malformed request body"


class BodyTooLarge(ServiceError):
    status = 413
    slug = "body-too-large"
    title = "Request body too large"


def _restore(cls: type[ServiceError], detail: str, state: dict) -> ServiceError:
    error = cls.__new__(cls)
    Exception.__init__(error, detail)
    error.__dict__.update(state)
    return error
