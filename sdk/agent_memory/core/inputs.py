"""Validation of client arguments into typed requests, before anything is written."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from agent_memory.core.errors import InvalidInputError
from agent_memory.core.models import (
    MEMORY_TYPES,
    MemoryType,
    SearchMode,
    Turn,
    TurnInput,
    parse,
    utcnow,
)
from agent_memory.core.query import SearchQuery
from agent_memory.core.validation import (
    MAX_COUNT,
    MAX_ID_LENGTH,
    check_content,
    check_identifier,
    check_unicode,
)

MAX_TOP: Final = 1000
MAX_TURNS_PER_CALL: Final = 1000
_MODES: Final = ("hybrid", "text", "vector")


def new_turn_id() -> str:
    """A fresh random turn id."""
    return f"turn-{uuid.uuid4().hex}"


def build_turns(
    user_id: Any,
    thread_id: Any,
    turns: Any,
    *,
    max_chars: int,
    now: datetime | None = None,
) -> list[Turn]:
    """Validate a batch of turns (all or nothing) into :class:`Turn` objects."""
    check_identifier(user_id, "user_id")
    check_identifier(thread_id, "thread_id")
    if isinstance(turns, str | bytes | Mapping) or not isinstance(turns, Sequence):
        raise InvalidInputError("turns must be a list of turns (dicts or TurnInput)")
    if len(turns) > MAX_TURNS_PER_CALL:
        raise InvalidInputError(f"at most {MAX_TURNS_PER_CALL} turns per call; got {len(turns)}")
    stamp = now or utcnow()
    built: list[Turn] = []
    seen: set[str] = set()
    for index, item in enumerate(turns):
        if isinstance(item, TurnInput):
            given = item
        elif isinstance(item, Mapping):
            given = _turn_input(index, dict(item))
        else:
            raise InvalidInputError(f"turns[{index}] must be a dict or TurnInput")
        check_content(given.content, f"turns[{index}].content", max_chars=max_chars)
        turn_id = given.id or new_turn_id()
        if turn_id in seen:
            raise InvalidInputError(f"turns[{index}].id {turn_id!r} appears twice in the batch")
        seen.add(turn_id)
        built.append(
            parse(
                Turn,
                id=turn_id,
                user_id=user_id,
                thread_id=thread_id,
                role=given.role,
                content=given.content,
                metadata=given.metadata or {},
                created_at=given.created_at or stamp,
            )
        )
    return built


def _turn_input(index: int, data: dict[str, Any]) -> TurnInput:
    try:
        return parse(TurnInput, **data)
    except InvalidInputError as exc:
        raise InvalidInputError(f"turns[{index}]: {exc}") from None


def check_memory_types(
    memory_types: Any, name: str = "memory_types"
) -> tuple[MemoryType, ...] | None:
    """``None`` or a non-empty list drawn from fact / procedural / episodic (one type alone
    may be given as a string); errors name the argument ``name``."""
    if memory_types is None:
        return None
    if isinstance(memory_types, str):
        memory_types = [memory_types]
    if not isinstance(memory_types, Sequence) or not memory_types:
        raise InvalidInputError(f"{name} must be a non-empty list")
    for value in memory_types:
        if value not in MEMORY_TYPES:
            raise InvalidInputError(f"{name}: {value!r} is not one of {', '.join(MEMORY_TYPES)}")
    return tuple(memory_types)


def check_confidence(value: Any, name: str = "min_confidence") -> float | None:
    """``None`` or a number in [0, 1]."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise InvalidInputError(f"{name} must be a number between 0 and 1; got {value!r}")
    return float(value)


def check_limit(
    value: Any, name: str = "limit", *, maximum: int = MAX_COUNT, minimum: int = 1
) -> int | None:
    """``None`` or an int from ``minimum`` (default 1) to ``maximum`` (default 2**31 - 1)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInputError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if value > maximum:
        raise InvalidInputError(f"{name} must be at most {maximum}; got {value}")
    return int(value)


def check_flag(value: Any, name: str) -> bool:
    """``value`` if it is True or False."""
    if not isinstance(value, bool):
        raise InvalidInputError(f"{name} must be True or False; got {value!r}")
    return value


def check_memory_id(value: Any, name: str = "memory_id") -> str:
    """A memory id as the SDK hands them out: a non-empty string of valid Unicode."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, got {type(value).__name__}")
    check_unicode(value, name)
    if not value.strip() or len(value) > MAX_ID_LENGTH:
        raise InvalidInputError(f"{name} must be 1 to {MAX_ID_LENGTH} characters")
    return value


def check_turn_ids(value: Any, name: str = "source_turn_ids") -> list[str]:
    """``None`` (no ids) or a list of turn ids; a single string is refused, not split."""
    if value is None:
        return []
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise InvalidInputError(f"{name} must be a list of turn ids; got {type(value).__name__}")
    return [check_identifier(item, f"{name}[{i}]") for i, item in enumerate(value)]


def check_tags(tags: Any) -> tuple[str, ...] | None:
    """``None`` or a list of non-empty strings."""
    if tags is None:
        return None
    if isinstance(tags, str) or not isinstance(tags, Sequence) or not tags:
        raise InvalidInputError("tags must be a non-empty list of strings")
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise InvalidInputError(f"tags: {tag!r} is not a non-empty string")
        check_unicode(tag, "tags")
    return tuple(tags)


def check_optional_identifier(value: Any, name: str) -> str | None:
    """``None`` or a valid identifier."""
    return None if value is None else check_identifier(value, name)


def build_search(
    user_id: Any,
    query: Any,
    *,
    top: Any,
    memory_types: Any,
    thread_id: Any,
    tags: Any,
    min_confidence: Any,
    include_turns: Any,
    include_superseded: Any,
    mode: Any,
    max_chars: int,
) -> SearchQuery:
    """Validate search arguments; the vector is filled in by the client."""
    check_identifier(user_id, "user_id")
    check_content(query, "query", max_chars=max_chars)
    if mode not in _MODES:
        raise InvalidInputError(f"mode must be one of {', '.join(_MODES)}; got {mode!r}")
    check_flag(include_turns, "include_turns")
    check_flag(include_superseded, "include_superseded")
    return SearchQuery(
        text=query,
        vector=None,
        top=check_limit(top, "top", maximum=MAX_TOP) or 5,
        memory_types=check_memory_types(memory_types),
        thread_id=check_optional_identifier(thread_id, "thread_id"),
        tags=check_tags(tags),
        min_confidence=check_confidence(min_confidence),
        include_turns=include_turns,
        include_superseded=include_superseded,
        mode=mode,
    )


def mode_needs_vector(mode: SearchMode) -> bool:
    """Whether a search in ``mode`` needs the query embedded."""
    return mode != "text"
