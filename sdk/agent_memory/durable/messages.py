"""Small JSON messages between trigger, orchestrator, entity and activities (ids, never text)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from agent_memory.core.due import Thresholds
from agent_memory.core.models import ThreadId, TurnId, UserId, UtcDatetime
from agent_memory.core.status import OWNER_DURABLE
from agent_memory.core.steps import (
    EXTRACT_STEP,
    RECONCILE_STEP,
    THREAD_SUMMARY_STEP,
    USER_SUMMARY_STEP,
)

THREAD_STEPS: tuple[str, ...] = (EXTRACT_STEP, THREAD_SUMMARY_STEP)
USER_STEPS: tuple[str, ...] = (RECONCILE_STEP, USER_SUMMARY_STEP)


def _check_step(name: str) -> str:
    if name not in (*THREAD_STEPS, *USER_STEPS):
        raise ValueError(f"unknown step {name!r}")
    return name


StepName = Annotated[str, AfterValidator(_check_step)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TurnRef(_Message):
    """One new turn as the change feed reports it: where it is, its ``seq`` and ``_lsn``."""

    thread_id: ThreadId
    turn_id: TurnId
    lsn: int = Field(ge=1, description="Cosmos DB _lsn (the turn's seq in the embedded store)")
    seq: int | None = Field(
        default=None, ge=1, description="the store's per-thread sequence number, when present"
    )

    @property
    def key(self) -> int:
        """What orders the thread's turns for counting: ``seq``, else ``_lsn``.

        ``seq`` is distinct per turn and grows within a thread; ``_lsn`` is per physical
        partition and shared by the turns of one transactional batch.
        """
        return self.seq if self.seq is not None else self.lsn


class Step(_Message):
    """One unit of work: a step for a thread (extraction, thread summary) or for the user."""

    step: StepName
    thread_id: ThreadId | None = None

    @model_validator(mode="after")
    def _scoped(self) -> Step:
        if (self.step in THREAD_STEPS) != (self.thread_id is not None):
            raise ValueError(f"{self.step} takes a thread_id only if it is a thread step")
        return self

    @property
    def key(self) -> str:
        """``step/thread`` or ``step``: unambiguous, since ids never contain ``/``."""
        return f"{self.step}/{self.thread_id}" if self.thread_id else self.step


class PipelineInput(_Message):
    """The orchestration input the trigger sends for one user."""

    user_id: UserId
    turns: list[TurnRef]
    thresholds: Thresholds = Field(default_factory=Thresholds)
    owner: str = OWNER_DURABLE
    generation: int = Field(default=0, ge=0, description="executions continued as new so far")
    reruns: int = Field(default=0, ge=0, description="times the sweeper started it again")


class OrchestrationRequest(_Message):
    """One orchestration to start: its derived instance id and its input."""

    instance_id: str
    input: PipelineInput


class RecordOperation(_Message):
    """Input of the entity's ``record``: count these turns, hand out what is due."""

    instance_id: str
    now: UtcDatetime
    turns: list[TurnRef]
    thresholds: Thresholds = Field(default_factory=Thresholds)
    owner: str = OWNER_DURABLE


class StepFailure(_Message):
    """A step that failed after its retries (its turns stay pending)."""

    step: Step
    error: str


class CompleteOperation(_Message):
    """Input of the entity's ``complete``: what ran; ``more=False`` asks for no further work."""

    instance_id: str
    now: UtcDatetime
    done: list[Step] = Field(default_factory=list)
    failed: list[Step] = Field(default_factory=list)
    failures: list[StepFailure] = Field(default_factory=list, description="failed, with errors")
    again: list[Step] = Field(
        default_factory=list, description="ran, but left work for another run (bounded work)"
    )
    more: bool = True


class ReleaseOperation(_Message):
    """Input of the entity's ``release``: step keys to lift the quarantine of (None: all)."""

    keys: list[str] | None = None


class Work(_Message):
    """What the entity hands an orchestration: steps now claimed by it, or when to come back."""

    steps: list[Step] = Field(default_factory=list)
    counted: int = Field(default=0, ge=0, description="turns of the batch counted now")
    previous_owner: str | None = None
    wake_at: UtcDatetime | None = Field(
        default=None, description="no steps now; held-off steps are due then (the caller drains)"
    )
    quarantined: list[str] = Field(
        default_factory=list, description="keys of the user's quarantined steps"
    )


class PipelineResult(BaseModel):
    """The orchestration output: what was counted and what ran."""

    model_config = ConfigDict(extra="forbid")

    user_id: str
    counted: int = 0
    rounds: int = 0
    waits: int = 0
    quarantined: list[str] = Field(default_factory=list, description="step keys, when it ended")
    done: list[Step] = Field(default_factory=list)
    failed: list[StepFailure] = Field(default_factory=list)
