"""Builds the store the settings choose (async source; the sync one is generated)."""

from __future__ import annotations

import os
from typing import Any

from agent_memory.settings import Settings
from agent_memory.stores._async.protocol import AsyncMemoryStore
from agent_memory.stores.sqlite.async_store import AsyncSqliteStore


def build_store(
    settings: Settings, path: str | os.PathLike[str] | None = None, credential: Any = None
) -> AsyncMemoryStore:
    """The store ``settings`` choose.

    An explicit ``path`` opens the embedded SQLite store there; otherwise Cosmos DB when
    ``COSMOS_DB_ENDPOINT`` is set (with ``credential`` when there is no key), else SQLite at
    ``settings.store_path``. Nothing is contacted until the store's first operation.
    """
    if path is None and settings.cosmos_endpoint:
        from agent_memory.stores.cosmos._async.store import AsyncCosmosStore

        return AsyncCosmosStore.from_settings(settings, credential=credential)
    return AsyncSqliteStore(path or settings.store_path)
