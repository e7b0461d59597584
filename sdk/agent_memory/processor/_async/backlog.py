"""What a thread still has pending for extraction (async source; the sync one is generated)."""

from __future__ import annotations

from agent_memory.core import steps
from agent_memory.stores._async.protocol import AsyncMemoryStore


async def extraction_backlog(
    store: AsyncMemoryStore, user_id: str, thread_id: str
) -> tuple[int, int]:
    """The thread's extraction watermark and the ``seq`` of its latest turn (0 when none)."""
    latest = await store.list_turns(user_id, thread_id, limit=1, latest=True)
    watermark = await store.get_watermark(user_id, thread_id, steps.EXTRACT_STEP)
    return watermark, (latest[-1].seq or 0) if latest else 0


async def backlog_error(
    store: AsyncMemoryStore, user_id: str, thread_id: str, timeout: float, hint: str
) -> TimeoutError:
    """A ``TimeoutError`` that names the thread, what is still pending and what to check."""
    watermark, latest = await extraction_backlog(store, user_id, thread_id)
    pending = len(await store.list_turns(user_id, thread_id, after=watermark))
    return TimeoutError(
        f"thread {thread_id!r} of user {user_id!r}: {pending} turn(s) still pending extraction "
        f"after {timeout:g} s (extraction watermark {watermark}, latest turn {latest}). {hint}"
    )
