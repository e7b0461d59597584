"""Storage backends: :mod:`.sqlite` (the embedded default) and :mod:`.cosmos` (Azure Cosmos DB).

``stores/_async/protocol.py`` is the store contract both implement; the backends load only
when one of their names is used, so importing this package costs nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent_memory.stores.sqlite import AsyncSqliteStore, SqliteStore

_EXPORTS = {
    "AsyncSqliteStore": "agent_memory.stores.sqlite",
    "SqliteStore": "agent_memory.stores.sqlite",
}


def __getattr__(name: str) -> object:
    """Load a backend on first use of one of its names."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agent_memory.stores' has no attribute {name!r}")
    return getattr(import_module(module), name)


__all__ = ["AsyncSqliteStore", "SqliteStore"]
