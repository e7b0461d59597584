"""Small JSON inputs and outputs of the activities (ids and counts, never text)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agent_memory.core.due import MAX_DEDUP_POOL
from agent_memory.core.models import ThreadId, UserId

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
    skipped: int = Field(default=0, description="Items the model returned that were unusable.")
    watermark: int = 0
    #: Proposed memories not stored because the cited turns do not support them, by reason
    #: (``prompt_copy``, ``unsupported``; see ``agent_memory.core.grounding``).
    ungrounded: dict[str, int] = Field(default_factory=dict)
    forgotten: bool = Field(default=False, description="The user was forgotten mid-step.")
    remaining: int = Field(default=0, description="turns left for the next run (max_batches)")
    covered: int = Field(
        default=0,
        description="1 when another run of the step moved the watermark first: this run "
        "stopped and counted none of that batch's turns",
    )


class ReconcileResult(_Message):
    """What a reconcile run did."""

    considered: int = 0
    superseded: list[str] = Field(default_factory=list)
    ignored_ids: int = 0
    conflicting: int = Field(
        default=0, description="Proposals dropped to keep one active member per group."
    )
    forgotten: bool = Field(default=False, description="The user was forgotten mid-step.")


class SummaryResult(_Message):
    """What a summary run did."""

    turns: int = 0
    batches: int = 0
    updated: bool = False
    watermark: int = 0
    #: Summary lines dropped as ungrounded, by reason (see ``ExtractResult.ungrounded``).
    ungrounded: dict[str, int] = Field(default_factory=dict)
    forgotten: bool = Field(default=False, description="The user was forgotten mid-step.")
