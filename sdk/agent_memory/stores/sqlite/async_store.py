"""Async mirror of :class:`SqliteStore`: the same code, run in worker threads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

from agent_memory.stores.sqlite.store import SqliteStore

P = ParamSpec("P")
R = TypeVar("R")


def _in_thread(
    method: Callable[Concatenate[SqliteStore, P], R],
) -> Callable[Concatenate[AsyncSqliteStore, P], Coroutine[Any, Any, R]]:
    """Expose a ``SqliteStore`` method as a coroutine that runs it off the event loop."""

    async def call(self: AsyncSqliteStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(method, self.sync, *args, **kwargs)

    call.__name__ = method.__name__
    call.__qualname__ = f"AsyncSqliteStore.{method.__name__}"
    call.__doc__ = method.__doc__
    return call


class AsyncSqliteStore:
    """:class:`~agent_memory.aio.MemoryStore` over :class:`SqliteStore` (one implementation)."""

    def __init__(self, path: Any = None, **options: Any) -> None:
        self.sync = SqliteStore(path, **options)
        self.path = self.sync.path

    ensure_embedding_model = _in_thread(SqliteStore.ensure_embedding_model)
    append_turns = _in_thread(SqliteStore.append_turns)
    list_turns = _in_thread(SqliteStore.list_turns)
    list_threads = _in_thread(SqliteStore.list_threads)
    create_memory = _in_thread(SqliteStore.create_memory)
    get_memory = _in_thread(SqliteStore.get_memory)
    list_memories = _in_thread(SqliteStore.list_memories)
    search = _in_thread(SqliteStore.search)
    supersede = _in_thread(SqliteStore.supersede)
    get_summary = _in_thread(SqliteStore.get_summary)
    put_summary = _in_thread(SqliteStore.put_summary)
    list_summaries = _in_thread(SqliteStore.list_summaries)
    record_usage = _in_thread(SqliteStore.record_usage)
    list_usage = _in_thread(SqliteStore.list_usage)
    increment_counter = _in_thread(SqliteStore.increment_counter)
    get_watermark = _in_thread(SqliteStore.get_watermark)
    advance_watermark = _in_thread(SqliteStore.advance_watermark)
    compare_and_set_watermark = _in_thread(SqliteStore.compare_and_set_watermark)
    forget = _in_thread(SqliteStore.forget)
    user_epoch = _in_thread(SqliteStore.user_epoch)
    purge_expired = _in_thread(SqliteStore.purge_expired)

    async def close(self) -> None:
        """Close every connection of the underlying store."""
        self.sync.close()

    async def __aenter__(self) -> AsyncSqliteStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
