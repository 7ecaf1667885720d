"""Per-request context that services and log records read without it being passed around.

Only the request id lives here; who acts is passed to services explicitly (`Actor`).
Celery tasks set it from the outbox row they work on, so a handler's audit rows carry the
request id of the change that caused them.
"""

import contextvars
import re
import uuid

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

# A client may send its own id (X-Request-ID) to correlate logs; anything else is replaced.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str:
    if value and _VALID_REQUEST_ID.match(value):
        return value
    return new_request_id()


def get_request_id() -> str:
    return _request_id.get()


def set_request_id(value: str) -> contextvars.Token:
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)
