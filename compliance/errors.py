"""Errors that services raise; the API turns them into the one error body, the admin into messages."""


class ApplicationError(Exception):
    """A request the domain refuses. `errors` maps property paths to problems, like a 400 body."""

    status_code = 400
    default_message = "The request is invalid."

    def __init__(self, message: str | None = None, *, errors: dict[str, list[str] | str] | None = None):
        self.message = message or self.default_message
        self.errors = errors or {}
        super().__init__(self.message)


class NotFoundError(ApplicationError):
    status_code = 404
    default_message = "The entity does not exist."


class ConflictError(ApplicationError):
    """The change conflicts with the current state (wrong status transition, duplicate, in use)."""

    status_code = 409
    default_message = "The request conflicts with the current state."


class ForbiddenError(ApplicationError):
    """A domain rule forbids this actor the action (e.g. four eyes), though the role allows it."""

    status_code = 403
    default_message = "You do not have permission to perform this action."
