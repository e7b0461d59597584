"""The pipeline's step names: activity names on the Durable path, keys of the due plan.

They are plain strings so the replay-safe Durable code (entity, orchestrator) can name a step
without importing the step's implementation (:mod:`agent_memory.pipeline`).
"""

from __future__ import annotations

from typing import Final

EXTRACT_STEP: Final = "extract_memories"
RECONCILE_STEP: Final = "reconcile"
THREAD_SUMMARY_STEP: Final = "summarize_thread"
USER_SUMMARY_STEP: Final = "summarize_user"
