"""Storage failures of the embedded store as typed errors, and the check of a file before use.

Every failure of SQLite or the file system (corrupt, locked, read-only or unwritable file, a
directory as the path, a full disk) and every record that cannot be read back surfaces as
:class:`~agent_memory.StoreError` naming the file and the cause; nothing raw escapes.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, Final, ParamSpec, Protocol, TypeVar

from pydantic import ValidationError

from agent_memory.core.errors import StoreError

SQLITE_HEADER: Final = b"SQLite format 3\x00"

P = ParamSpec("P")
R = TypeVar("R")


class HasPath(Protocol):
    """Anything with the store file's ``path``."""

    path: Path


S = TypeVar("S", bound=HasPath)


@contextmanager
def storage_errors(path: Path | str) -> Iterator[None]:
    """Turn ``sqlite3``, ``OSError`` and unreadable-record errors into :class:`StoreError`."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: {_describe(exc)}") from exc
    except OSError as exc:
        raise StoreError(f"{path}: {exc.strerror or exc}") from exc
    except (ValidationError, json.JSONDecodeError) as exc:
        raise StoreError(f"{path}: holds a record this release cannot read ({exc})") from exc


def guarded(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Run a store method under :func:`storage_errors` for the store's path."""

    @functools.wraps(method)
    def call(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with storage_errors(self.path):
            return method(self, *args, **kwargs)

    return call


def _describe(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "file is not a database" in text or "malformed" in text:
        return f"not a readable SQLite database ({text})"
    if "locked" in text or "busy" in text:
        return f"locked by another connection for longer than the busy timeout ({text})"
    if "readonly" in text or "read-only" in text:
        return f"read-only ({text})"
    if "unable to open" in text:
        return f"cannot be opened: a missing or unwritable directory, or a directory ({text})"
    if "full" in text:
        return f"the disk or the database is full ({text})"
    return text


def check_store_file(path: Path) -> None:
    """Refuse, without modifying it, a file that is not an agent-memory store.

    A missing or empty file is fine (a new store). Anything else must be a SQLite database
    that is empty or has this store's ``meta`` table; a directory, another application's
    database or a non-SQLite file raise :class:`StoreError`.
    """
    if str(path) == ":memory:":
        return
    with storage_errors(path):
        if path.is_dir():
            raise StoreError(f"{path}: is a directory, not a database file")
        if not path.exists() or path.stat().st_size == 0:
            return
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
        if header != SQLITE_HEADER:
            raise StoreError(f"{path}: is not a SQLite database; it was left untouched")
        tables = _tables(path)
        if tables and "meta" not in tables:
            raise StoreError(
                f"{path}: is another application's SQLite database (tables: "
                f"{', '.join(sorted(tables)[:5])}); it was left untouched"
            )


def _tables(path: Path) -> set[str]:
    """Names of the tables in ``path``, read through a read-only connection."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows: list[Any] = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        ).fetchall()
    finally:
        db.close()
    return {str(r[0]) for r in rows}
