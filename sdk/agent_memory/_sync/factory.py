# Generated from agent_memory/_async/factory.py by scripts/unasync.py. Do not edit:
# change the async source and run `python scripts/unasync.py`.
"""Builds the store the settings choose (sync, generated)."""

from __future__ import annotations

import os

from agent_memory._sync.store import MemoryStore
from agent_memory.settings import Settings
from agent_memory.stores.sqlite.store import SqliteStore


def build_store(settings: Settings, path: str | os.PathLike[str] | None = None) -> MemoryStore:
    """The embedded SQLite store at ``path`` (or ``settings.store_path``)."""
    return SqliteStore(path or settings.store_path)
