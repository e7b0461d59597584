"""Boundary checks for identifiers and content, shared by models and clients."""

from __future__ import annotations

import re
from typing import Any, Final

from agent_memory.errors import InvalidInputError

MAX_ID_LENGTH: Final = 255
DEFAULT_MAX_CONTENT_CHARS: Final = 100_000

_FORBIDDEN_ID_CHARS = re.compile(r"[/\\?#\x00-\x1f\x7f-\x9f]")


def check_identifier(value: Any, name: str) -> str:
    """Return ``value`` if it is a safe user/thread id: a Cosmos id, entity key and instance id."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, got {type(value).__name__}")
    if not value or not value.strip():
        raise InvalidInputError(f"{name} must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidInputError(f"{name} must be at most {MAX_ID_LENGTH} characters")
    bad = _FORBIDDEN_ID_CHARS.search(value)
    if bad:
        raise InvalidInputError(
            f"{name} must not contain '/', '\\', '?', '#' or control characters "
            f"(found {bad.group()!r})"
        )
    return value


def check_content(
    value: Any, name: str = "content", *, max_chars: int = DEFAULT_MAX_CONTENT_CHARS
) -> str:
    """Return ``value`` if it is non-blank text of at most ``max_chars`` characters."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInputError(f"{name} must not be empty")
    if len(value) > max_chars:
        raise InvalidInputError(f"{name} has {len(value):,} characters; the limit is {max_chars:,}")
    return value
