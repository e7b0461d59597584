"""Small JSON inputs and outputs of the activities (ids and counts, never text)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agent_memory.models import ThreadId, UserId
from agent_memory.pipeline.due import MAX_DEDUP_POOL

UNCLASSIFIED_TAG = "sys:unclassified"


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ThreadRequest(_Message):
    """Input of ``extract_memories`` and ``summarize_thread``.

    ``max_batches`` bounds the model batches one extraction run processes (None: all); the
    result's ``remaining`` says how many turns it left for the next run.
    """

    user_id: UserId
    thread_id: ThreadId
    max_batches: int | None = Field(default=None, ge=1)


class UserRequest(_Message):
    """Input of ``summarize_user``."""

    user_id: UserId


class ReconcileRequest(_Message):
    """Input of ``reconcile``: how many recent facts to compare."""

    user_id: UserId
    n: int = Field(default=50, ge=2, le=MAX_DEDUP_POOL)


class ExtractResult(_Message):
    """What an extraction run did."""

    turns: int = 0
    batches: int = 0
    created: int = 0
    duplicates: int = 0
    unknown_turn_ids: int = 0
    watermark: int = 0
    remaining: int = Field(default=0, description="turns left for the next run (max_batches)")
    skipped: int = Field(default=0, description="batches a concurrent run had already covered")


class ReconcileResult(_Message):
    """What a reconcile run did."""

    considered: int = 0
    superseded: list[str] = Field(default_factory=list)
    ignored_ids: int = 0


class SummaryResult(_Message):
    """What a summary run did."""

    turns: int = 0
    batches: int = 0
    updated: bool = False
    watermark: int = 0
