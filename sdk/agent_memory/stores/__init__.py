"""Storage backends: :mod:`.sqlite` (the embedded default) and :mod:`.cosmos` (Azure Cosmos DB).

``stores/_async/protocol.py`` is the store contract both implement; the backends load only
when one of their names is used, so importing this package costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_memory.core.lazy import lazy_exports

if TYPE_CHECKING:
    from agent_memory.stores.sqlite import AsyncSqliteStore, SqliteStore

_EXPORTS = {
    "AsyncSqliteStore": "agent_memory.stores.sqlite",
    "SqliteStore": "agent_memory.stores.sqlite",
}


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())

__all__ = ["AsyncSqliteStore", "SqliteStore"]
