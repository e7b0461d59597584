"""Storage backends. :class:`SqliteStore` is the embedded default."""

from agent_memory.stores.sqlite import AsyncSqliteStore, SqliteStore

__all__ = ["AsyncSqliteStore", "SqliteStore"]
