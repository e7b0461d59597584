# Generated from agent_memory/pipeline/_async/activities.py by scripts/unasync.py. Do not edit:
# change the async source and run `python scripts/unasync.py`.
"""The pipeline steps as host-free activities: ``step(store, ai, request) -> result``.

Each is idempotent: memory ids are deterministic, supersedes are conditional and watermarks
only advance after the writes they cover succeed. The same functions run in-process and as
Durable Functions activities (sync, generated). One module per step:
:mod:`.extract`, :mod:`.reconcile` and :mod:`.summaries` (thread summary and user profile); their
names are in :mod:`agent_memory.core.steps`.
"""

from __future__ import annotations

from agent_memory.pipeline._sync.extract import extract_memories
from agent_memory.pipeline._sync.reconcile import reconcile
from agent_memory.pipeline._sync.summaries import summarize_thread, summarize_user

__all__ = [
    "extract_memories",
    "reconcile",
    "summarize_thread",
    "summarize_user",
]
