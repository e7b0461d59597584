# Generated from agent_memory/processor/_async/backlog.py by scripts/unasync.py. Do not edit:
# change the async source and run `python scripts/unasync.py`.
"""What a thread still has pending for extraction (sync, generated)."""

from __future__ import annotations

from agent_memory.core import steps
from agent_memory.stores._sync.protocol import MemoryStore


def extraction_backlog(store: MemoryStore, user_id: str, thread_id: str) -> tuple[int, int]:
    """The thread's extraction watermark and the ``seq`` of its latest turn (0 when none)."""
    latest = store.list_turns(user_id, thread_id, limit=1, latest=True)
    watermark = store.get_watermark(user_id, thread_id, steps.EXTRACT_STEP)
    return watermark, (latest[-1].seq or 0) if latest else 0


def backlog_error(
    store: MemoryStore, user_id: str, thread_id: str, timeout: float, hint: str
) -> TimeoutError:
    """A ``TimeoutError`` that names the thread, what is still pending and what to check."""
    watermark, latest = extraction_backlog(store, user_id, thread_id)
    pending = len(store.list_turns(user_id, thread_id, after=watermark))
    return TimeoutError(
        f"thread {thread_id!r} of user {user_id!r}: {pending} turn(s) still pending extraction "
        f"after {timeout:g} s (extraction watermark {watermark}, latest turn {latest}). {hint}"
    )
