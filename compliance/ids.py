"""Integer ids as they arrive in paths and bodies: the one place that decides what can be a row's id."""

from __future__ import annotations

# An integer primary key's range on every backend; a larger number would overflow the query (a 500).
MAX_ID = 2_147_483_647


def parse_id(value) -> int | None:
    """The id an int or a text of ASCII digits names; None for anything no row can have
    (`str.isdigit` also takes "¹", which `int` refuses)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
        return None
    return value
