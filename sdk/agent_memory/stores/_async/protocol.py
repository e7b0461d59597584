"""The storage contract every backend implements (async source; the sync one is generated)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from agent_memory.core.models import (
    AppendResult,
    CounterIncrement,
    Memory,
    MemoryType,
    SearchHit,
    Summary,
    SummaryKind,
    SupersedeReason,
    Turn,
    UsageRecord,
)
from agent_memory.core.query import SearchQuery, Vector


@runtime_checkable
class AsyncMemoryStore(Protocol):
    """Exactly the operations the SDK and the pipeline need; every one names the user."""

    async def ensure_embedding_model(self, model: str, dimensions: int) -> None:
        """Record the embedding model on first use; raise ``ConfigurationError`` on a mismatch."""
        ...

    async def append_turns(
        self, user_id: str, thread_id: str, turns: Sequence[Turn], embeddings: Vector | None
    ) -> AppendResult:
        """Append turns atomically (a known id is kept, not copied); return them with ``seq``."""
        ...

    async def list_turns(
        self,
        user_id: str,
        thread_id: str,
        *,
        after: int = 0,
        limit: int | None = None,
        latest: bool = False,
    ) -> list[Turn]:
        """Turns of a thread with ``seq > after`` in order; ``latest`` keeps the last ``limit``."""
        ...

    async def list_threads(self, user_id: str) -> list[str]:
        """Ids of the user's threads that have turns, oldest first."""
        ...

    async def create_memory(
        self, memory: Memory, embedding: Vector | None, *, epoch: str | None = None
    ) -> bool:
        """Create ``memory`` unless an active one with its id exists; True when written.

        A superseded or expired (not yet purged) memory with the same id is replaced by
        ``memory``, so a re-asserted memory is active again.
        """
        ...

    async def get_memory(self, user_id: str, memory_id: str) -> Memory | None:
        """One memory of the user (superseded or not), or None."""
        ...

    async def list_memories(
        self,
        user_id: str,
        *,
        memory_types: Sequence[MemoryType] | None = None,
        thread_id: str | None = None,
        min_confidence: float | None = None,
        include_superseded: bool = False,
        limit: int | None = None,
    ) -> list[Memory]:
        """The user's unexpired memories, newest first."""
        ...

    async def search(self, user_id: str, query: SearchQuery) -> list[SearchHit]:
        """Hybrid (vector + full-text, rank-fused) search within the user's data."""
        ...

    async def supersede(
        self,
        user_id: str,
        memory_id: str,
        *,
        by: str,
        reason: SupersedeReason,
        epoch: str | None = None,
    ) -> bool:
        """Mark an active memory superseded; False if missing or already superseded."""
        ...

    async def get_summary(
        self, user_id: str, kind: SummaryKind, thread_id: str | None = None
    ) -> Summary | None:
        """The thread summary (``kind='thread'``) or user profile (``kind='user'``)."""
        ...

    async def put_summary(
        self, summary: Summary, embedding: Vector | None, *, epoch: str | None = None
    ) -> None:
        """Create or replace a summary, unless the stored one covers more turns.

        A stored summary with a higher ``covers_up_to`` is kept, so a late or repeated step
        never rolls a summary back; an equal one is replaced.
        """
        ...

    async def list_summaries(self, user_id: str, kind: SummaryKind) -> list[Summary]:
        """Every summary of a kind for the user, most recently updated first."""
        ...

    async def record_usage(self, record: UsageRecord, *, epoch: str | None = None) -> None:
        """Append one model call to the user's usage ledger."""
        ...

    async def list_usage(self, user_id: str) -> list[UsageRecord]:
        """The user's usage ledger, oldest first."""
        ...

    async def increment_counter(
        self,
        user_id: str,
        name: str,
        *,
        thread_id: str | None = None,
        by: int = 1,
        owner: str | None = None,
        epoch: str | None = None,
    ) -> CounterIncrement:
        """Atomically add ``by`` to a counter; return the values before and after.

        With ``epoch=`` the write (also of ``by=0`` with an ``owner``) is refused with
        :class:`~agent_memory.ForgottenError` once the user was forgotten (see ``user_epoch``).
        """
        ...

    async def get_watermark(self, user_id: str, thread_id: str, step: str) -> int:
        """The turn ``seq`` a step has processed up to in a thread (0 when none)."""
        ...

    async def advance_watermark(
        self, user_id: str, thread_id: str, step: str, value: int, *, epoch: str | None = None
    ) -> int:
        """Move a watermark forward (never back); return the resulting value."""
        ...

    async def compare_and_set_watermark(
        self,
        user_id: str,
        thread_id: str,
        step: str,
        *,
        expected: int,
        value: int,
        epoch: str | None = None,
    ) -> bool:
        """Move a watermark from ``expected`` (0: none stored) to ``value``, atomically.

        True when this call moved it. False, writing nothing, when the watermark is no longer
        ``expected`` (a concurrent or duplicate run of the step moved it first) or when
        ``value`` is not above ``expected``: a run that loses the race counts nothing.
        """
        ...

    async def forget(self, user_id: str, *, thread_id: str | None = None) -> dict[str, int]:
        """Delete everything of the user (or one thread); counts per container.

        Changes the user's epoch, so writes of work in flight for the user are refused.
        """
        ...

    async def user_epoch(self, user_id: str) -> str:
        """A token for the user's data as it is now; ``forget`` changes it.

        Every write that takes ``epoch=`` raises :class:`~agent_memory.ForgottenError` instead
        of writing when the token is no longer the user's current one. Pipeline steps read it
        first and pass it to each write, so nothing of a user forgotten while a step was in
        flight is written afterwards.
        """
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
