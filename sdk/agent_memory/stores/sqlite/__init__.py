"""The embedded SQLite store and its async mirror."""

from agent_memory.stores.sqlite.async_store import AsyncSqliteStore
from agent_memory.stores.sqlite.store import SqliteStore, default_path

__all__ = ["AsyncSqliteStore", "SqliteStore", "default_path"]
