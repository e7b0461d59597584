"""The per-user counter entity: pure transitions over a typed state, calling ``due_steps``.

One entity per user (key = user id) serializes counting without ETag loops. ``record`` counts
each new turn at most once and hands out the steps that come due; ``complete`` releases what an
orchestration claimed and hands out what came due meanwhile. A step is claimed by one
orchestration at a time, so the same step never runs twice at once for a thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Final, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from agent_memory._async.activities import (
    EXTRACT_STEP,
    RECONCILE_STEP,
    THREAD_SUMMARY_STEP,
    USER_SUMMARY_STEP,
)
from agent_memory.durable.messages import (
    CompleteOperation,
    RecordOperation,
    Step,
    TurnRef,
    Work,
)
from agent_memory.durable.names import COMPLETE, GET, RECORD
from agent_memory.pipeline.due import Counts, DueSteps, due_steps

#: A claim older than this is presumed lost (its orchestration died) and its step re-queued.
CLAIM_TIMEOUT: Final = timedelta(minutes=30)
#: Counted ``_lsn`` ranges kept per thread above its high-water mark; older ones fold into it.
MAX_RANGES: Final = 8


class _State(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ThreadCounter(_State):
    """Turns counted in one thread, and which ``_lsn`` values are already counted.

    Every turn with ``lsn <= high_water`` is counted, and so is every turn inside one of
    ``ranges``. A change-feed batch carries a contiguous slice of a partition's feed, so the
    turns of one thread in a batch are *all* its turns between the batch's lowest and highest
    ``_lsn``: that closed range is what a batch adds. Ranges that touch merge; beyond
    :data:`MAX_RANGES`, the oldest folds into ``high_water``.
    """

    turns: int = Field(default=0, ge=0)
    high_water: int = Field(default=0, ge=0)
    ranges: list[tuple[int, int]] = Field(default_factory=list)

    def covers(self, lsn: int) -> bool:
        """True when the turn at ``lsn`` has been counted."""
        return lsn <= self.high_water or any(lo <= lsn <= hi for lo, hi in self.ranges)

    def add_range(self, lo: int, hi: int) -> None:
        """Mark every turn with ``lo <= lsn <= hi`` as counted."""
        merged: list[tuple[int, int]] = []
        for start, end in sorted([*self.ranges, (lo, hi)]):
            if merged and start <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        while merged and (merged[0][0] <= self.high_water + 1 or len(merged) > MAX_RANGES):
            self.high_water = max(self.high_water, merged.pop(0)[1])
        self.ranges = merged


class Claim(_State):
    """A step handed to an orchestration and not completed yet."""

    step: Step
    instance_id: str
    since: datetime


class CounterState(_State):
    """The entity's whole state: counts, counted ranges, queued and claimed steps, owner."""

    version: Literal[1] = 1
    user_turns: int = Field(default=0, ge=0)
    extractions: int = Field(default=0, ge=0, description="extraction runs made due so far")
    threads: dict[str, ThreadCounter] = Field(default_factory=dict)
    pending: list[Step] = Field(default_factory=list, description="due, not handed out yet")
    in_flight: dict[str, Claim] = Field(default_factory=dict, description="step key -> claim")
    last_owner: str | None = None


def steps_of(due: DueSteps, thread_id: str) -> list[Step]:
    """The steps a ``due_steps`` answer names, extraction first."""
    steps: list[Step] = []
    if due.extract:
        steps.append(Step(step=EXTRACT_STEP, thread_id=thread_id))
    if due.reconcile:
        steps.append(Step(step=RECONCILE_STEP))
    if due.thread_summary:
        steps.append(Step(step=THREAD_SUMMARY_STEP, thread_id=thread_id))
    if due.user_summary:
        steps.append(Step(step=USER_SUMMARY_STEP))
    return steps


def _unique(steps: Iterable[Step]) -> list[Step]:
    seen: dict[str, Step] = {}
    for step in steps:
        seen.setdefault(step.key, step)
    return list(seen.values())


def _by_thread(turns: Iterable[TurnRef]) -> dict[str, list[TurnRef]]:
    """Turns grouped by thread in order of first appearance, each turn id once."""
    groups: dict[str, list[TurnRef]] = {}
    seen: set[str] = set()
    for turn in turns:
        if turn.turn_id not in seen:
            seen.add(turn.turn_id)
            groups.setdefault(turn.thread_id, []).append(turn)
    return groups


def _hand_out(
    state: CounterState,
    wanted: Iterable[Step],
    instance_id: str,
    now: datetime,
    *,
    hold: set[str] | None = None,
) -> list[Step]:
    """Claim for ``instance_id`` every pending or wanted step nobody holds (``hold`` waits)."""
    for key, claim in list(state.in_flight.items()):
        if now - claim.since > CLAIM_TIMEOUT:
            del state.in_flight[key]
            state.pending.append(claim.step)
    handed: list[Step] = []
    waiting: list[Step] = []
    for step in _unique([*state.pending, *wanted]):
        if step.key in state.in_flight or step.key in (hold or set()):
            waiting.append(step)
        else:
            state.in_flight[step.key] = Claim(step=step, instance_id=instance_id, since=now)
            handed.append(step)
    state.pending = waiting
    return handed


def record(state: CounterState, op: RecordOperation) -> tuple[CounterState, Work]:
    """Count the batch's new turns, thread by thread, and hand out what they make due."""
    state = state.model_copy(deep=True)
    due: list[Step] = []
    counted = 0
    for thread_id, turns in _by_thread(op.turns).items():
        thread = state.threads.get(thread_id) or ThreadCounter()
        new = sum(1 for t in turns if not thread.covers(t.lsn))
        thread.add_range(min(t.lsn for t in turns), max(t.lsn for t in turns))
        if new:
            before = Counts(
                thread_turns=thread.turns,
                user_turns=state.user_turns,
                extractions=state.extractions,
            )
            after = Counts(
                thread_turns=thread.turns + new,
                user_turns=state.user_turns + new,
                extractions=state.extractions,
            )
            fired = due_steps(before, after, op.thresholds)
            thread.turns += new
            state.user_turns += new
            state.extractions = fired.extractions
            due.extend(steps_of(fired, thread_id))
            counted += new
        state.threads[thread_id] = thread
    previous_owner, state.last_owner = state.last_owner, op.owner
    steps = _hand_out(state, due, op.instance_id, op.now)
    return state, Work(steps=steps, counted=counted, previous_owner=previous_owner)


def complete(state: CounterState, op: CompleteOperation) -> tuple[CounterState, Work]:
    """Release the caller's claims; unfinished steps wait for the next batch, others go out."""
    state = state.model_copy(deep=True)
    done = {s.key for s in op.done}
    unfinished: set[str] = set()
    for key, claim in list(state.in_flight.items()):
        if claim.instance_id != op.instance_id:
            continue
        del state.in_flight[key]
        if key not in done:
            unfinished.add(key)
            state.pending.append(claim.step)
    state.pending = _unique(state.pending)
    if not op.more:
        return state, Work()
    return state, Work(steps=_hand_out(state, (), op.instance_id, op.now, hold=unfinished))


class EntityContext(Protocol):
    """What the entity needs of ``azure.durable_functions.DurableEntityContext``."""

    @property
    def operation_name(self) -> str | None: ...

    def get_state(
        self, initializer: Callable[[], Any] | None = None, expected_type: type | None = None
    ) -> Any: ...

    def set_state(self, state: Any) -> None: ...

    def get_input(self, expected_type: type | None = None) -> Any: ...

    def set_result(self, result: Any) -> None: ...


def apply(state: CounterState, operation: str | None, payload: Any) -> tuple[CounterState, Any]:
    """Run one operation; return the new state and the JSON result."""
    if operation == RECORD:
        state, work = record(state, RecordOperation.model_validate(payload))
        return state, work.model_dump(mode="json")
    if operation == COMPLETE:
        state, work = complete(state, CompleteOperation.model_validate(payload))
        return state, work.model_dump(mode="json")
    if operation == GET:
        return state, state.model_dump(mode="json")
    raise ValueError(f"unknown operation {operation!r}; expected {RECORD}, {COMPLETE} or {GET}")


def handle(context: EntityContext) -> None:
    """The entity function body: load state, apply the operation, store state and result."""
    raw = context.get_state(dict, expected_type=dict)
    state = CounterState.model_validate(raw or {})
    state, result = apply(state, context.operation_name, context.get_input(expected_type=dict))
    context.set_state(state.model_dump(mode="json"))
    context.set_result(result)
