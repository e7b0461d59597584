"""The per-user counter entity: transitions over a typed, versioned, bounded state.

One entity per user (key = user id) serializes counting without ETag loops. ``record`` counts
each new turn at most once and hands out the steps that come due; ``complete`` releases what an
orchestration claimed, holds off or quarantines what failed, and hands out what is due now;
``release`` lifts a quarantine; ``forget`` deletes the entity. A step is claimed by one
orchestration at a time, so the same step never runs twice at once for a thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from pydantic import BaseModel, ConfigDict, Field

from agent_memory.core.due import Counts, DueSteps, due_steps
from agent_memory.core.steps import (
    EXTRACT_STEP,
    RECONCILE_STEP,
    THREAD_SUMMARY_STEP,
    USER_SUMMARY_STEP,
)
from agent_memory.durable.messages import (
    CompleteOperation,
    RecordOperation,
    ReleaseOperation,
    Step,
    TurnRef,
    Work,
)
from agent_memory.durable.names import COMPLETE, FORGET, GET, RECORD, RELEASE
from agent_memory.durable.timing import (
    CLAIM_TIMEOUT,
    HOLD_OFF,
    IDLE_AFTER,
    MAX_HOLD_OFF,
    QUARANTINE_AFTER,
    SETTLE_AFTER,
)

#: The state schema this code writes; older ones are upgraded on load.
STATE_VERSION: Final = 2
#: Counted ranges kept per thread above its floor; beyond, the lowest folds into the floor.
MAX_RANGES: Final = 64
#: Threads tracked per user; beyond, the quietest threads without work are dropped.
MAX_THREADS: Final = 1_000
_ERROR_CHARS: Final = 300


class _State(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ThreadCounter(_State):
    """Turns counted in one thread, and which turn keys are counted.

    A turn's key is the store's per-thread ``seq`` (``_lsn`` when the document has none).
    Every turn with ``key <= floor`` is counted, and so is every turn inside one of
    ``ranges``. A change-feed batch carries a contiguous slice of a partition's feed, so the
    turns of one thread in a batch are *all* its turns between the batch's lowest and highest
    key: that closed range is what a batch adds. Ranges that overlap or touch merge; beyond
    :data:`MAX_RANGES` the lowest folds into ``floor``; once the thread has been quiet for
    ``SETTLE_AFTER`` every range folds (no batch of it is still in flight).
    """

    turns: int = Field(default=0, ge=0)
    floor: int = Field(default=0, ge=0)
    ranges: list[tuple[int, int]] = Field(default_factory=list)
    seen: int | None = Field(
        default=None, description="entity time of its last batch, in seconds since the epoch"
    )

    def covers(self, key: int) -> bool:
        """True when the turn with ``key`` has been counted."""
        return key <= self.floor or any(lo <= key <= hi for lo, hi in self.ranges)

    def add_range(self, lo: int, hi: int) -> None:
        """Mark every turn with ``lo <= key <= hi`` as counted."""
        merged: list[tuple[int, int]] = []
        for start, end in sorted([*self.ranges, (lo, hi)]):
            if merged and start <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        while merged and (merged[0][0] <= self.floor + 1 or len(merged) > MAX_RANGES):
            self.floor = max(self.floor, merged.pop(0)[1])
        self.ranges = merged

    def settle(self, now: datetime) -> None:
        """Fold every range into the floor once the thread has been quiet long enough."""
        if self.ranges and self.seen is not None and _quiet(now, self.seen) >= SETTLE_AFTER:
            self.floor = max(self.floor, self.ranges[-1][1])
            self.ranges = []


def _epoch(moment: datetime) -> int:
    """Whole seconds since the epoch (thread times are stored so: cheap to parse and write)."""
    return int(moment.timestamp())


def _quiet(now: datetime, seen: int) -> timedelta:
    """How long a thread last seen at ``seen`` (epoch seconds) has been quiet at ``now``."""
    return timedelta(seconds=_epoch(now) - seen)


class Claim(_State):
    """A step handed to an orchestration and not completed yet."""

    step: Step
    instance_id: str
    since: datetime


class StepHealth(_State):
    """A step that failed: how often in a row, when it may run again, whether quarantined."""

    step: Step
    failures: int = Field(default=0, ge=0, description="failed rounds in a row")
    retry_at: datetime | None = None
    quarantined: bool = False
    error: str = ""


class CounterState(_State):
    """The entity's whole state (schema :data:`STATE_VERSION`)."""

    version: int = STATE_VERSION
    user_turns: int = Field(default=0, ge=0)
    extractions: int = Field(default=0, ge=0, description="extraction runs made due so far")
    threads: dict[str, ThreadCounter] = Field(default_factory=dict)
    pending: list[Step] = Field(default_factory=list, description="due, not handed out yet")
    in_flight: dict[str, Claim] = Field(default_factory=dict, description="step key -> claim")
    health: dict[str, StepHealth] = Field(default_factory=dict, description="failing steps")
    drainer: str | None = Field(default=None, description="instance waiting on held-off steps")
    drainer_until: datetime | None = Field(default=None, description="then presumed gone")
    evicted_threads: int = Field(default=0, ge=0, description="idle threads dropped so far")
    evicted_seq: int = Field(
        default=0,
        ge=0,
        description="highest key of a dropped thread: a seq at or below it, "
        "in a thread the state does not track, counts as counted",
    )
    last_owner: str | None = None


def load_state(raw: Any) -> CounterState:
    """The state from its stored JSON, upgrading older schemas; ``ValueError`` if newer.

    Version 1 (per-thread ``high_water``, no ``seen``, no health) becomes version 2 with
    ``high_water`` as the floor.
    """
    if not raw:
        return CounterState()
    data = dict(raw)
    version = data.get("version", 1)
    if not isinstance(version, int) or version > STATE_VERSION:
        raise ValueError(f"counter state version {version!r} is newer than {STATE_VERSION}")
    if version == 1:
        data["threads"] = {
            thread_id: {
                "turns": thread.get("turns", 0),
                "floor": thread.get("high_water", 0),
                "ranges": thread.get("ranges", []),
            }
            for thread_id, thread in data.get("threads", {}).items()
        }
        data["version"] = STATE_VERSION
    return CounterState.model_validate(data)


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
    """Turns grouped by thread in order of first appearance, each (thread, turn id) once."""
    groups: dict[str, dict[str, TurnRef]] = {}
    for turn in turns:
        groups.setdefault(turn.thread_id, {}).setdefault(turn.turn_id, turn)
    return {thread_id: list(by_id.values()) for thread_id, by_id in groups.items()}


def _busy_threads(state: CounterState) -> set[str]:
    steps = [*state.pending, *(c.step for c in state.in_flight.values())]
    steps += [h.step for h in state.health.values()]
    return {s.thread_id for s in steps if s.thread_id is not None}


def _trim(state: CounterState, now: datetime) -> None:
    """Settle quiet threads; drop idle ones, and the quietest beyond :data:`MAX_THREADS`."""
    busy = _busy_threads(state)
    for thread in state.threads.values():
        thread.settle(now)
    idle = [
        thread_id
        for thread_id, thread in state.threads.items()
        if thread_id not in busy
        and thread.seen is not None
        and _quiet(now, thread.seen) >= IDLE_AFTER
    ]
    excess = len(state.threads) - len(idle) - MAX_THREADS
    if excess > 0:
        quiet = sorted(
            (t for t in state.threads if t not in busy and t not in idle),
            key=lambda t: state.threads[t].seen or 0,
        )
        idle += quiet[:excess]
    for thread_id in idle:
        dropped = state.threads.pop(thread_id)
        last = max([dropped.floor, *(hi for _, hi in dropped.ranges)])
        state.evicted_seq = max(state.evicted_seq, last)
    state.evicted_threads += len(idle)


def _new_thread(state: CounterState, turns: list[TurnRef]) -> ThreadCounter:
    """The counter of a thread the state does not track (new, or dropped earlier).

    Its floor starts at the highest key of any dropped thread when the turns carry ``seq``
    (which the store assigns in time order across threads), so a late redelivery of a
    dropped thread's batch is not counted twice; at worst a very late first batch of another
    thread is taken as counted, which only delays its steps. ``_lsn`` keys do not compare
    across threads: their floor starts at 0.
    """
    seq_keyed = all(t.seq is not None for t in turns)
    return ThreadCounter(floor=state.evicted_seq if seq_keyed else 0)


def _quarantined(state: CounterState) -> list[str]:
    """Keys of the user's quarantined steps, sorted."""
    return sorted(key for key, health in state.health.items() if health.quarantined)


def _hold_off(failures: int) -> timedelta:
    doublings = min(max(failures - 1, 0), 30)
    return min(HOLD_OFF * (1 << doublings), MAX_HOLD_OFF)


def _hand_out(
    state: CounterState,
    wanted: Iterable[Step],
    instance_id: str,
    now: datetime,
    *,
    hold: set[str] | None = None,
) -> list[Step]:
    """Claim for ``instance_id`` every pending or wanted step that is free to run.

    A step waits while another orchestration holds it, while it is in ``hold`` (the caller
    just failed it), and while its hold-off runs; a quarantined step is not queued at all.
    Expired claims go back to the queue first.
    """
    for key, claim in list(state.in_flight.items()):
        if now - claim.since > CLAIM_TIMEOUT:
            del state.in_flight[key]
            state.pending.append(claim.step)
    handed: list[Step] = []
    waiting: list[Step] = []
    for step in _unique([*state.pending, *wanted]):
        health = state.health.get(step.key)
        if health is not None and health.quarantined:
            continue
        held = health is not None and health.retry_at is not None and health.retry_at > now
        if step.key in state.in_flight or step.key in (hold or set()) or held:
            waiting.append(step)
        else:
            state.in_flight[step.key] = Claim(step=step, instance_id=instance_id, since=now)
            handed.append(step)
    state.pending = waiting
    return handed


def _next_wake(state: CounterState, instance_id: str, now: datetime) -> datetime | None:
    """When the caller should come back for held-off steps (it becomes the drainer), or None.

    One orchestration per user waits for held-off work; the others finish. A drainer whose
    claims all expired is presumed gone and replaced.
    """
    times = [
        h.retry_at
        for h in state.health.values()
        if not h.quarantined and h.retry_at is not None and h.step.key not in state.in_flight
    ]
    if not times and any(s.key not in state.in_flight for s in state.pending):
        times = [now + HOLD_OFF]  # pending behind a claim that will be released
    if not times:
        state.drainer = state.drainer_until = None
        return None
    alive = state.drainer_until is not None and now <= state.drainer_until
    if state.drainer not in (None, instance_id) and alive:
        return None
    wake = max(min(times), now + timedelta(seconds=1))
    state.drainer, state.drainer_until = instance_id, wake + CLAIM_TIMEOUT
    return wake


def record(state: CounterState, op: RecordOperation) -> tuple[CounterState, Work]:
    """Count the batch's new turns, thread by thread, and hand out what they make due."""
    # a re-run of an instance (same id) takes back what its earlier execution held
    for key, claim in list(state.in_flight.items()):
        if claim.instance_id == op.instance_id:
            del state.in_flight[key]
            state.pending.append(claim.step)
    due: list[Step] = []
    counted = 0
    for thread_id, turns in _by_thread(op.turns).items():
        thread = state.threads.get(thread_id) or _new_thread(state, turns)
        new = sum(1 for t in turns if not thread.covers(t.key))
        thread.add_range(min(t.key for t in turns), max(t.key for t in turns))
        thread.seen = _epoch(op.now)
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
    _trim(state, op.now)
    wake = None if steps else _next_wake(state, op.instance_id, op.now)
    return state, Work(
        steps=steps,
        counted=counted,
        previous_owner=previous_owner,
        wake_at=wake,
        quarantined=_quarantined(state),
    )


def complete(state: CounterState, op: CompleteOperation) -> tuple[CounterState, Work]:
    """Release the caller's claims, hold off or quarantine failures, hand out what is due."""
    done = {s.key for s in op.done}
    again = {s.key for s in op.again}
    errors = {f.step.key: f.error for f in op.failures}
    failed = {s.key for s in op.failed} | set(errors)
    unfinished: set[str] = set()
    for key, claim in list(state.in_flight.items()):
        if claim.instance_id != op.instance_id:
            continue
        del state.in_flight[key]
        if key in done:
            state.health.pop(key, None)
            if key in again:
                state.pending.append(claim.step)  # bounded run: the rest goes out again now
            continue
        unfinished.add(key)
        state.pending.append(claim.step)
        if key in failed:
            health = state.health.get(key) or StepHealth(step=claim.step)
            health.failures += 1
            health.error = errors.get(key, health.error)[:_ERROR_CHARS]
            health.retry_at = op.now + _hold_off(health.failures)
            health.quarantined = health.failures >= QUARANTINE_AFTER
            state.health[key] = health
    state.pending = _unique(state.pending)
    if not op.more:
        _trim(state, op.now)
        return state, Work()
    steps = _hand_out(state, (), op.instance_id, op.now, hold=unfinished)
    _trim(state, op.now)
    wake = None if steps else _next_wake(state, op.instance_id, op.now)
    return state, Work(steps=steps, wake_at=wake, quarantined=_quarantined(state))


def release(state: CounterState, op: ReleaseOperation) -> tuple[CounterState, Work]:
    """Lift the quarantine (and hold-off) of the named steps, or of every step; queue them."""
    for key, health in list(state.health.items()):
        if op.keys is None or key in op.keys:
            del state.health[key]
            state.pending.append(health.step)
    state.pending = _unique(state.pending)
    return state, Work()


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

    def destruct_on_exit(self) -> None: ...


def apply(state: CounterState, operation: str | None, payload: Any) -> tuple[CounterState, Any]:
    """Run one operation; return the new state and the JSON result.

    The transitions update ``state`` in place (it is loaded afresh for every invocation, and
    a failing operation raises before the entity stores anything): copying a state of a
    thousand threads would cost more than the operation itself.
    """
    if operation == RECORD:
        state, work = record(state, RecordOperation.model_validate(payload))
        return state, work.model_dump(mode="json")
    if operation == COMPLETE:
        state, work = complete(state, CompleteOperation.model_validate(payload))
        return state, work.model_dump(mode="json")
    if operation == RELEASE:
        state, work = release(state, ReleaseOperation.model_validate(payload or {}))
        return state, work.model_dump(mode="json")
    if operation == GET:
        return state, state.model_dump(mode="json")
    raise ValueError(
        f"unknown operation {operation!r}; expected {RECORD}, {COMPLETE}, {RELEASE}, {GET} "
        f"or {FORGET}"
    )


def handle(context: EntityContext) -> None:
    """The entity function body: load state, apply the operation, store state and result.

    ``forget`` deletes the entity (state and all): the user's next turn starts a fresh one.
    """
    if context.operation_name == FORGET:
        context.destruct_on_exit()
        context.set_result(None)
        return
    state = load_state(context.get_state(dict, expected_type=dict))
    state, result = apply(state, context.operation_name, context.get_input(expected_type=dict))
    context.set_state(state.model_dump(mode="json"))
    context.set_result(result)
