"""The embedded default store: one SQLite file, FTS5 full text, NumPy vectors, RRF fusion.

:class:`SqliteStore` is composed by concern, one mixin per module over the base in
:mod:`.connection` (connections, transactions, the schema, epochs, purge): :mod:`.turns`,
:mod:`.memories`, :mod:`.search` (hybrid search and vectors), :mod:`.state` (summaries, the
usage ledger, counters and watermarks) and :mod:`.forget`.

This store is written sync-first, while the Cosmos DB store is async-first (its sync twin is
generated): stdlib :mod:`sqlite3` is a blocking API, so an async-first version would still
run every statement in a worker thread (as aiosqlite does) while adding a dependency. The
async store (:mod:`.async_store`) therefore runs this one sync implementation off the event
loop with :func:`asyncio.to_thread`, which is what the event-loop stall test
(``tests/test_async_event_loop.py``) measures.
"""

from __future__ import annotations

from agent_memory.stores.sqlite.connection import DEFAULT_PATH, PATH_ENV, Clock, default_path
from agent_memory.stores.sqlite.forget import ForgetMixin
from agent_memory.stores.sqlite.memories import MemoriesMixin
from agent_memory.stores.sqlite.search import SearchMixin
from agent_memory.stores.sqlite.state import StateMixin
from agent_memory.stores.sqlite.turns import TurnsMixin

__all__ = ["DEFAULT_PATH", "PATH_ENV", "Clock", "SqliteStore", "default_path"]


class SqliteStore(TurnsMixin, MemoriesMixin, SearchMixin, StateMixin, ForgetMixin):
    """Embedded :class:`~agent_memory.MemoryStore` in one SQLite file (WAL, thread-safe).

    Each thread gets its own connection; writes take ``BEGIN IMMEDIATE`` with a busy timeout,
    so concurrent writers queue instead of failing with "database is locked".
    ``vector_files`` keeps each searched user's vectors in a memory-mapped file beside the
    database, so a new process's first search maps them instead of reading every embedding
    (:mod:`agent_memory.stores.sqlite.vector_files`).
    """

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
