"""Boundary checks for identifiers and content, shared by models and clients."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Final

from agent_memory.core.errors import InvalidInputError

MAX_ID_LENGTH: Final = 255
DEFAULT_MAX_CONTENT_CHARS: Final = 100_000
#: Largest count, limit or TTL accepted (what a Cosmos ``ttl`` and a 32-bit int hold).
MAX_COUNT: Final = 2**31 - 1
#: Integers in metadata are kept exact; Cosmos DB stores numbers as IEEE-754 doubles.
MAX_SAFE_INTEGER: Final = 2**53 - 1
#: Metadata nesting depth and size (characters of its JSON form) accepted.
MAX_METADATA_DEPTH: Final = 32
MAX_METADATA_CHARS: Final = 64_000

#: Categories that draw nothing on their own: controls, format characters (zero-width space,
#: joiners, BOM, soft hyphen, bidi marks, tags), surrogates, separators and combining marks.
_INVISIBLE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})
#: Letters and symbols that render blank: Hangul fillers, the braille blank, and the Mongolian
#: vowel separator (``Cf`` in current Unicode, ``Mn`` in older tables).
_BLANK_LETTERS: Final = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
_SURROGATE = re.compile("[\ud800-\udfff]")

_FORBIDDEN_ID_CHARS = re.compile(r"[/\\?#\x00-\x1f\x7f-\x9f]")


def check_identifier(value: Any, name: str) -> str:
    """Return ``value`` if it is a safe user/thread id: a Cosmos id, entity key and instance id."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, got {type(value).__name__}")
    check_unicode(value, name)
    if is_blank(value):
        raise InvalidInputError(f"{name} must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidInputError(f"{name} must be at most {MAX_ID_LENGTH} characters")
    bad = _FORBIDDEN_ID_CHARS.search(value)
    if bad:
        raise InvalidInputError(
            f"{name} must not contain '/', '\\', '?', '#' or control characters "
            f"(found {bad.group()!r})"
        )
    # Two ids that print alike must not name two tenants: no invisible format characters
    # (zero-width, bidi controls), no space but U+0020, no surrounding whitespace, and one
    # normal form (NFC).
    hidden = next(
        (ch for ch in value if unicodedata.category(ch) == "Cf" or (ch.isspace() and ch != " ")),
        None,
    )
    if hidden is not None:
        raise InvalidInputError(
            f"{name} must not contain invisible format characters or spaces other than "
            f"U+0020 (found {hidden!r})"
        )
    if value != value.strip():
        raise InvalidInputError(f"{name} must not start or end with whitespace")
    if not unicodedata.is_normalized("NFC", value):
        raise InvalidInputError(
            f"{name} must be in Unicode normal form NFC (unicodedata.normalize('NFC', ...))"
        )
    return value


def check_content(
    value: Any, name: str = "content", *, max_chars: int = DEFAULT_MAX_CONTENT_CHARS
) -> str:
    """Return ``value`` if it is visible text of at most ``max_chars`` characters.

    Text with nothing visible once whitespace, format and other invisible characters are
    removed (``"\\u200b"``, ``"\\ufeff \\u2060"``) counts as empty; lone surrogates are
    refused (they cannot be stored as UTF-8).
    """
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, got {type(value).__name__}")
    check_unicode(value, name)
    if is_blank(value):
        raise InvalidInputError(f"{name} must not be empty (no visible characters)")
    if len(value) > max_chars:
        raise InvalidInputError(f"{name} has {len(value):,} characters; the limit is {max_chars:,}")
    return value


def is_blank(text: str) -> bool:
    """True when ``text`` has no visible character (see :data:`_INVISIBLE_CATEGORIES`)."""
    return all(
        ch in _BLANK_LETTERS or unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in text
    )


def check_unicode(value: str, name: str) -> str:
    """Return ``value`` unless it holds a lone surrogate (not encodable as UTF-8)."""
    bad = _SURROGATE.search(value)
    if bad:
        raise InvalidInputError(
            f"{name} is not valid Unicode: lone surrogate {bad.group()!r} at {bad.start()}"
        )
    return value


def check_text(value: Any, name: str) -> str:
    """Return ``value`` if it is a string of valid Unicode (blank allowed)."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, got {type(value).__name__}")
    return check_unicode(value, name)


def check_metadata(value: Any, name: str = "metadata") -> dict[str, Any]:
    """Return ``value`` if it is a JSON object that round-trips exactly.

    Accepted: dicts with string keys, lists, strings, booleans, None, finite floats and
    integers within ±(2**53 - 1), nested at most :data:`MAX_METADATA_DEPTH` deep and
    :data:`MAX_METADATA_CHARS` characters as JSON. Sets, tuples, bytes, NaN, infinities and
    other objects would come back changed (or not at all), so they are refused.
    """
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{name} must be a dict, got {type(value).__name__}")
    checked: dict[str, Any] = dict(value)
    size = _check_json(checked, name, 0)
    if size > MAX_METADATA_CHARS:
        raise InvalidInputError(
            f"{name} is about {size:,} characters as JSON; the limit is {MAX_METADATA_CHARS:,}"
        )
    return checked


def _check_json(value: Any, where: str, depth: int) -> int:
    """Validate one JSON value; return roughly how many characters its JSON form takes."""
    if depth > MAX_METADATA_DEPTH:
        raise InvalidInputError(f"{where}: nested more than {MAX_METADATA_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return 5
    if isinstance(value, str):
        return len(check_unicode(value, where)) + 2
    if isinstance(value, int):
        if type(value) is not int or abs(value) > MAX_SAFE_INTEGER:
            raise InvalidInputError(f"{where}: integers must be within ±{MAX_SAFE_INTEGER}")
        return 20
    if isinstance(value, float):
        if type(value) is not float or not math.isfinite(value):
            raise InvalidInputError(f"{where}: {value!r} is not a finite number")
        return 24
    if type(value) is dict:
        size = 2
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError(f"{where}: keys must be strings, got {key!r}")
            size += _check_json(key, f"{where} key", depth + 1)
            size += _check_json(item, f"{where}.{key}", depth + 1) + 2
        return size
    if type(value) is list:
        return 2 + sum(_check_json(v, f"{where}[{i}]", depth + 1) + 1 for i, v in enumerate(value))
    raise InvalidInputError(
        f"{where}: {type(value).__name__} is not a JSON value (use dict, list, str, int, float, "
        "bool or None)"
    )


def check_timeout(value: Any, name: str = "timeout") -> float:
    """Return ``value`` as float if it is a finite number of seconds >= 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"{name} must be a number of seconds >= 0; got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise InvalidInputError(f"{name} must be a finite number of seconds >= 0; got {value!r}")
    return float(value)
