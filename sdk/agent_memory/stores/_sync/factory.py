# Generated from agent_memory/stores/_async/factory.py by scripts/unasync.py. Do not edit:
# change the async source and run `python scripts/unasync.py`.
"""Builds the store the settings choose (sync, generated)."""

from __future__ import annotations

import os
from typing import Any

from agent_memory.settings import Settings
from agent_memory.stores._sync.protocol import MemoryStore
from agent_memory.stores.sqlite.store import SqliteStore


def build_store(
    settings: Settings, path: str | os.PathLike[str] | None = None, credential: Any = None
) -> MemoryStore:
    """The store ``settings`` choose.

    An explicit ``path`` opens the embedded SQLite store there; otherwise Cosmos DB when
    ``COSMOS_DB_ENDPOINT`` is set (with ``credential`` when there is no key), else SQLite at
    ``settings.store_path``. Nothing is contacted until the store's first operation.
    """
    if path is None and settings.cosmos_endpoint:
        from agent_memory.stores.cosmos._sync.store import CosmosStore

        return CosmosStore.from_settings(settings, credential=credential)
    return SqliteStore(path or settings.store_path)
