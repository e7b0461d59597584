"""Builds the store the settings choose (async source; the sync one is generated)."""

from __future__ import annotations

import os

from agent_memory._async.store import AsyncMemoryStore
from agent_memory.settings import Settings
from agent_memory.stores.sqlite.async_store import AsyncSqliteStore


def build_store(settings: Settings, path: str | os.PathLike[str] | None = None) -> AsyncMemoryStore:
    """The embedded SQLite store at ``path`` (or ``settings.store_path``)."""
    return AsyncSqliteStore(path or settings.store_path)
