"""The orchestrator: ask the user's counter entity what is due, run it, report back.

Deterministic by construction: no I/O, clock, randomness or settings here. Time comes from
``context.current_utc_datetime``; thresholds arrive in the input; everything else happens in
activities. Per round: extractions (threads in parallel), then reconcile and thread summaries,
then the user summary. A step that still fails after its retries is reported to the entity,
which holds it off (and after repeated failures quarantines it); one orchestration of the user
sleeps on a durable timer until held-off work is due and runs it.
"""

from __future__ import annotations

import functools
from collections.abc import Generator, Sequence
from datetime import datetime
from typing import Any, Final, Protocol

from pydantic import BaseModel

from agent_memory.core.due import Thresholds
from agent_memory.core.requests import ReconcileRequest, ThreadRequest, UserRequest
from agent_memory.core.steps import (
    EXTRACT_STEP,
    RECONCILE_STEP,
    THREAD_SUMMARY_STEP,
    USER_SUMMARY_STEP,
)
from agent_memory.durable.messages import (
    CompleteOperation,
    PipelineInput,
    PipelineResult,
    RecordOperation,
    Step,
    StepFailure,
    Work,
)
from agent_memory.durable.names import COMPLETE, COUNTER_ENTITY, RECORD
from agent_memory.durable.timing import (
    BACKOFF_COEFFICIENT,
    FIRST_RETRY_INTERVAL_MS,
    MAX_ATTEMPTS,
    MAX_RETRY_INTERVAL_MS,
)

#: Work rounds and hold-off waits per execution; beyond, the orchestration continues as new
#: (a fresh history) with an empty batch and keeps draining.
MAX_ROUNDS: Final = 8
MAX_WAITS: Final = 16
#: Executions of one instance (``continue_as_new``) before it stops; the sweeper re-runs it.
MAX_GENERATIONS: Final = 64
#: Model batches one extraction activity processes; what is left goes out in the next round,
#: so no invocation comes near ``functionTimeout``.
MAX_BATCHES_PER_ACTIVITY: Final = 4
_ERROR_CHARS: Final = 500


class OrchestrationContext(Protocol):
    """What the orchestrator uses of ``azure.durable_functions.DurableOrchestrationContext``."""

    @property
    def instance_id(self) -> str: ...

    @property
    def current_utc_datetime(self) -> datetime: ...

    def get_input(self, expected_type: type | None = None) -> Any: ...

    def call_entity(
        self,
        entityId: Any,
        operationName: str,
        operationInput: Any = None,
        expected_type: type | None = None,
    ) -> Any: ...

    def call_activity_with_retry(
        self,
        name: Any,
        retry_options: Any,
        input_: Any = None,
        expected_type: type | None = None,
    ) -> Any: ...

    def task_all(self, activities: list[Any]) -> Any: ...

    def create_timer(self, fire_at: datetime) -> Any: ...

    def continue_as_new(self, input_: Any) -> None: ...

    def set_custom_status(self, status: Any) -> None: ...


@functools.cache
def retry_options() -> Any:
    """``RetryOptions`` with bounded attempts and exponential backoff.

    The Python SDK's ``RetryOptions`` carries only the first interval and the attempt count;
    the extension also reads ``backoffCoefficient`` and ``maxRetryIntervalInMilliseconds``
    (the JavaScript SDK sends them), so they are added to its JSON.
    """
    from azure.durable_functions import RetryOptions

    class BackoffRetryOptions(RetryOptions):  # type: ignore[misc]
        def to_json(self) -> dict[str, Any]:
            payload: dict[str, Any] = super().to_json()
            payload["backoffCoefficient"] = BACKOFF_COEFFICIENT
            payload["maxRetryIntervalInMilliseconds"] = MAX_RETRY_INTERVAL_MS
            return payload

    return BackoffRetryOptions(
        first_retry_interval_in_milliseconds=FIRST_RETRY_INTERVAL_MS,
        max_number_of_attempts=MAX_ATTEMPTS,
    )


def counter_entity_id(user_id: str) -> Any:
    """The user's counter entity (key = user id)."""
    from azure.durable_functions import EntityId

    return EntityId(COUNTER_ENTITY, user_id)


def _json(message: BaseModel) -> dict[str, Any]:
    return message.model_dump(mode="json")


def activity_input(step: Step, user_id: str, thresholds: Thresholds) -> dict[str, Any]:
    """The small JSON request of the activity that runs ``step``."""
    if step.step == EXTRACT_STEP:
        assert step.thread_id is not None
        request = ThreadRequest(
            user_id=user_id, thread_id=step.thread_id, max_batches=MAX_BATCHES_PER_ACTIVITY
        )
        return _json(request)
    if step.step == THREAD_SUMMARY_STEP:
        assert step.thread_id is not None
        return _json(ThreadRequest(user_id=user_id, thread_id=step.thread_id))
    if step.step == RECONCILE_STEP:
        return _json(ReconcileRequest(user_id=user_id, n=thresholds.dedup_pool_size))
    return _json(UserRequest(user_id=user_id))


def _settle(
    context: OrchestrationContext, tasks: Sequence[Any]
) -> Generator[Any, Any, list[tuple[bool, Any]]]:
    """Wait for every task; ``(True, result)`` or ``(False, error)`` for each, in order."""
    if not tasks:
        return []
    try:
        results = yield context.task_all(list(tasks))
        return [(True, result) for result in results]
    except Exception:
        outcomes: list[tuple[bool, Any]] = []
        for task in tasks:  # task_all fails fast; wait for the others one by one
            try:
                outcomes.append((True, (yield task)))
            except Exception as exc:
                outcomes.append((False, str(exc)[:_ERROR_CHARS]))
        return outcomes


def _run_phase(
    context: OrchestrationContext,
    request: PipelineInput,
    steps: Sequence[Step],
    outcome: RoundOutcome,
) -> Generator[Any, Any, bool]:
    """Run ``steps`` in parallel with retries; record each outcome; True if all succeeded."""
    options = retry_options()
    tasks = [
        context.call_activity_with_retry(
            step.step,
            options,
            activity_input(step, request.user_id, request.thresholds),
            expected_type=dict,
        )
        for step in steps
    ]
    outcomes = yield from _settle(context, tasks)
    for step, (ok, value) in zip(steps, outcomes, strict=True):
        if ok:
            outcome.done.append(step)
            if isinstance(value, dict) and int(value.get("remaining") or 0) > 0:
                outcome.again.append(step)
        else:
            outcome.failed.append(StepFailure(step=step, error=str(value)))
    return all(ok for ok, _ in outcomes)


class RoundOutcome(BaseModel):
    """What a round did: steps done (``again``: done, with work left), steps failed."""

    done: list[Step] = []
    again: list[Step] = []
    failed: list[StepFailure] = []


def run_round(
    context: OrchestrationContext, request: PipelineInput, steps: Sequence[Step]
) -> Generator[Any, Any, RoundOutcome]:
    """Extractions, then reconcile and thread summaries, then the user summary.

    A failed extraction does not hold back reconcile: reconcile works on the facts stored so
    far, and the failed thread's turns stay pending for its next attempt.
    """
    outcome = RoundOutcome()
    extractions = [s for s in steps if s.step == EXTRACT_STEP]
    yield from _run_phase(context, request, extractions, outcome)
    second = [s for s in steps if s.step in (RECONCILE_STEP, THREAD_SUMMARY_STEP)]
    yield from _run_phase(context, request, second, outcome)
    last = [s for s in steps if s.step == USER_SUMMARY_STEP]
    yield from _run_phase(context, request, last, outcome)
    return outcome


def pipeline(context: OrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """The orchestrator body: record the batch, run rounds, wait out hold-offs, then finish.

    The entity hands out claimed steps; after each round ``complete`` reports what ran and
    hands out what is due now. When nothing is due but held-off steps remain, the entity
    names a wake time for one orchestration of the user (the drainer), which sleeps on a
    durable timer and asks again. Past :data:`MAX_ROUNDS` rounds or :data:`MAX_WAITS` waits
    the instance continues as new with an empty batch, so its history stays small.
    """
    request = PipelineInput.model_validate(context.get_input(expected_type=dict))
    entity = counter_entity_id(request.user_id)
    result = PipelineResult(user_id=request.user_id)
    record = RecordOperation(
        instance_id=context.instance_id,
        now=context.current_utc_datetime,
        turns=request.turns,
        thresholds=request.thresholds,
        owner=request.owner,
    )
    work = Work.model_validate(
        (yield context.call_entity(entity, RECORD, _json(record), expected_type=dict))
    )
    result.counted = work.counted
    _report(context, result, work)
    while work.steps or work.wake_at is not None:
        if result.rounds >= MAX_ROUNDS or result.waits >= MAX_WAITS:
            # return the claims first: the next execution (or, after the last one, any other
            # orchestration of the user) picks the steps up from the queue
            yield context.call_entity(
                entity, COMPLETE, _json(_release(context)), expected_type=dict
            )
            if request.generation + 1 < MAX_GENERATIONS:
                context.continue_as_new(_json(_next_generation(request)))
            break
        if work.steps:
            outcome = yield from run_round(context, request, work.steps)
            result.rounds += 1
            result.done.extend(outcome.done)
            result.failed.extend(outcome.failed)
        else:
            assert work.wake_at is not None
            yield context.create_timer(work.wake_at)
            result.waits += 1
            outcome = RoundOutcome()
        finish = CompleteOperation(
            instance_id=context.instance_id,
            now=context.current_utc_datetime,
            done=outcome.done,
            again=outcome.again,
            failures=outcome.failed,
        )
        work = Work.model_validate(
            (yield context.call_entity(entity, COMPLETE, _json(finish), expected_type=dict))
        )
        _report(context, result, work)
    return result.model_dump(mode="json")


def _report(context: OrchestrationContext, result: PipelineResult, work: Work) -> None:
    """Make quarantined steps visible in the instance's status while it runs, and its output."""
    if work.quarantined != result.quarantined:
        result.quarantined = list(work.quarantined)
        context.set_custom_status({"quarantined": result.quarantined})


def _release(context: OrchestrationContext) -> CompleteOperation:
    """A ``complete`` that returns every claim of this instance and asks for nothing more."""
    return CompleteOperation(
        instance_id=context.instance_id, now=context.current_utc_datetime, more=False
    )


def _next_generation(request: PipelineInput) -> PipelineInput:
    """The input of the next execution: the same user and settings, no new turns."""
    return request.model_copy(update={"turns": [], "generation": request.generation + 1})
