"""A stand-in for the Durable Functions host: replays registered orchestrators for real.

The host never runs an orchestrator once: it re-runs it from scratch over its growing history
every time something happens, and the orchestrator answers with every action it has scheduled
so far. :class:`ReplayHost` does the same with the handlers a ``DFApp`` registers (the very
functions the host would call, JSON string in, JSON string out):

- one episode per delivered event: ``OrchestratorStarted``, the event, the orchestrator's new
  actions as ``TaskScheduled``/``EventSent``, ``OrchestratorCompleted``;
- activities run for real (the registered activity functions), their results or failures come
  back as ``TaskCompleted``/``TaskFailed``;
- ``call_entity`` goes through the registered entity function with an operation batch, answered
  by ``EventSent`` then ``EventRaised`` (the request id as its name, a response message as input);
- ``call_activity_with_retry`` failures get the timer and the rescheduled attempt DTFx records
  (``TimerCreated``/``TimerFired``/``TaskScheduled``), with the SDK's extra timer after the last
  attempt; sequence numbers follow the SDK's, which allocates them in event order.
"""

from __future__ import annotations

import inspect
import itertools
import json
import traceback
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.functions._durable_functions import df_dumps

ORCHESTRATOR_STARTED = 12
ORCHESTRATOR_COMPLETED = 13
EXECUTION_STARTED = 0
TASK_SCHEDULED = 4
TASK_COMPLETED = 5
TASK_FAILED = 6
TIMER_CREATED = 10
TIMER_FIRED = 11
EVENT_SENT = 14
EVENT_RAISED = 15

CALL_ACTIVITY = 0
CALL_ACTIVITY_WITH_RETRY = 1
CALL_ENTITY = 7
SIGNAL_ENTITY = 9


_INDEXED: dict[int, list[Any]] = {}


def indexed(app: Any) -> list[Any]:
    """``app.get_functions()``, once per app (a second call fails its uniqueness check)."""
    if id(app) not in _INDEXED:
        _INDEXED[id(app)] = app.get_functions()
    return _INDEXED[id(app)]


@dataclass
class ActivityCall:
    """One execution of an activity function."""

    name: str
    input: Any
    ok: bool
    result: Any = None
    error: str | None = None


@dataclass
class OrchestrationRun:
    """What a replayed orchestration did."""

    instance_id: str
    history: list[dict[str, Any]]
    state: dict[str, Any]
    episodes: int

    @property
    def output(self) -> Any:
        return self.state.get("output")

    @property
    def done(self) -> bool:
        return bool(self.state.get("isDone"))

    @property
    def actions(self) -> list[dict[str, Any]]:
        return [a for group in self.state["actions"] for a in group]

    def events(self, event_type: int) -> list[dict[str, Any]]:
        return [e for e in self.history if e["EventType"] == event_type]


@dataclass
class _Retry:
    name: str
    input: str
    first_interval_ms: int
    max_attempts: int
    backoff: float
    attempt: int = 1


@dataclass
class _Delivery:
    event: dict[str, Any]
    retry: _Retry | None = None


@dataclass
class EntityHost:
    """Entity instances and their state, driven through a registered entity function."""

    handlers: dict[str, Any]
    instances: dict[tuple[str, str], tuple[bool, str | None]] = field(default_factory=dict)

    def run(self, name: str, key: str, batch: list[tuple[str, Any]]) -> list[dict[str, Any]]:
        """Run an operation batch; the raw results (``isError``, ``result`` as JSON)."""
        exists, state = self.instances.get((name, key), (False, None))
        payload = {
            "self": {"name": name, "key": key},
            "exists": exists,
            "state": state,
            "batch": [{"name": op, "input": json.dumps(df_dumps(value))} for op, value in batch],
        }
        output = json.loads(self.handlers[name](json.dumps(payload)))
        self.instances[(name, key)] = (output["entityExists"], output["entityState"])
        results: list[dict[str, Any]] = output["results"]
        return results

    def call(self, name: str, key: str, operation: str, value: Any) -> Any:
        """One operation; its decoded result, or ``RuntimeError`` when it failed."""
        (result,) = self.run(name, key, [(operation, value)])
        if result["isError"]:
            raise RuntimeError(json.loads(result["result"]))
        return json.loads(result["result"])

    def state(self, name: str, key: str) -> Any:
        """The decoded state of an entity, None when it has none."""
        _, state = self.instances.get((name, key), (False, None))
        return None if state is None else json.loads(state)


class ReplayHost:
    """Runs orchestrations of a ``DFApp`` to completion, replaying each episode."""

    def __init__(self, app: Any, *, start: datetime | None = None) -> None:
        self.orchestrators: dict[str, Any] = {}
        self.activities: dict[str, Any] = {}
        entities: dict[str, Any] = {}
        for function in indexed(app):
            trigger = function.get_trigger().get_binding_name()
            handler = function.get_user_function()
            name = function.get_function_name()
            if trigger == "orchestrationTrigger":
                self.orchestrators[name] = handler
            elif trigger == "activityTrigger":
                self.activities[name] = handler
            elif trigger == "entityTrigger":
                entities[name.lower()] = handler
        self.entities = EntityHost(entities)
        self.now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self.calls: list[ActivityCall] = []
        self.replays = 0

    # -- events ----------------------------------------------------------------------------

    def _tick(self, seconds: float = 1.0) -> str:
        self.now += timedelta(seconds=seconds)
        return self.now.isoformat().replace("+00:00", "Z")

    def _event(self, event_type: int, event_id: int = -1, **fields: Any) -> dict[str, Any]:
        stamp = self.now.isoformat().replace("+00:00", "Z")
        return {
            "EventType": event_type,
            "EventId": event_id,
            "IsPlayed": False,
            "Timestamp": stamp,
            **fields,
        }

    def _started(self) -> dict[str, Any]:
        self._tick()
        return self._event(ORCHESTRATOR_STARTED)

    # -- one episode -----------------------------------------------------------------------

    def replay(
        self, name: str, instance_id: str, input_json: str, history: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Run the orchestrator once over ``history`` (events before the last start: played)."""
        last_start = max(i for i, e in enumerate(history) if e["EventType"] == ORCHESTRATOR_STARTED)
        played = [{**e, "IsPlayed": i < last_start} for i, e in enumerate(history)]
        context = {
            "history": played,
            "instanceId": instance_id,
            "isReplaying": last_start > 0,
            "parentInstanceId": None,
            "input": input_json,
        }
        self.replays += 1
        try:
            state: dict[str, Any] = json.loads(self.orchestrators[name](json.dumps(context)))
        except Exception as exc:  # the SDK raises with the state after a marker
            message = str(exc)
            if "$OutOfProcData$:" not in message:
                raise
            state = json.loads(message.split("$OutOfProcData$:", 1)[1])
        return state

    # -- work --------------------------------------------------------------------------------

    async def execute(self, name: str, input_json: str) -> tuple[bool, str, str]:
        """Run an activity as the worker does; ``(ok, result JSON or reason, details)``."""
        value = json.loads(input_json)
        try:
            result = self.activities[name](value)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            self.calls.append(ActivityCall(name, value, ok=False, error=f"{exc}"))
            reason = f"Activity function '{name}' failed: {type(exc).__name__}: {exc}"
            return False, reason, "".join(traceback.format_exception_only(exc))
        self.calls.append(ActivityCall(name, value, ok=True, result=result))
        return True, df_dumps(result), ""

    async def _attempt(
        self, task_id: int, name: str, input_json: str, retry: _Retry | None
    ) -> _Delivery:
        ok, payload, details = await self.execute(name, input_json)
        if ok:
            return _Delivery(self._event(TASK_COMPLETED, TaskScheduledId=task_id, Result=payload))
        failed = self._event(TASK_FAILED, TaskScheduledId=task_id, Reason=payload, Details=details)
        return _Delivery(failed, retry)

    def _entity_call(
        self, instance_id: str, action: dict[str, Any], request_id: str, signal: bool
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Run the operation; the request message and the response message."""
        _, name, key = action["instanceId"].split("@", 2)
        (result,) = self.entities.run(
            name, key, [(action["operation"], json.loads(action["input"]))]
        )
        request = {
            "id": request_id,
            "op": action["operation"],
            "signal": signal,
            "input": action["input"],
            "parent": instance_id,
        }
        response = {"result": result["result"]}
        if result["isError"]:
            response["exceptionType"] = "System.Exception"
        return request, response

    async def _schedule(
        self,
        instance_id: str,
        action: dict[str, Any],
        task_id: int,
        history: list[dict[str, Any]],
        queue: deque[_Delivery],
    ) -> None:
        kind = action["actionType"]
        if kind in (CALL_ACTIVITY, CALL_ACTIVITY_WITH_RETRY):
            name, input_json = action["functionName"], action["input"]
            history.append(self._event(TASK_SCHEDULED, task_id, Name=name, Input=input_json))
            retry = None
            if kind == CALL_ACTIVITY_WITH_RETRY:
                options = action["retryOptions"]
                retry = _Retry(
                    name,
                    input_json,
                    options["firstRetryIntervalInMilliseconds"],
                    options["maxNumberOfAttempts"],
                    float(options.get("backoffCoefficient", 1.0)),
                )
            queue.append(await self._attempt(task_id, name, input_json, retry))
        elif kind in (CALL_ENTITY, SIGNAL_ENTITY):
            request_id = f"{instance_id}:{task_id}"
            request, response = self._entity_call(
                instance_id, action, request_id, kind == SIGNAL_ENTITY
            )
            history.append(
                self._event(
                    EVENT_SENT,
                    task_id,
                    InstanceId=action["instanceId"],
                    Name="op",
                    Input=json.dumps(request),
                )
            )
            if kind == CALL_ENTITY:
                raised = self._event(EVENT_RAISED, Name=request_id, Input=json.dumps(response))
                queue.append(_Delivery(raised))
        else:
            raise NotImplementedError(f"action type {kind} is not replayed here: {action}")

    async def _delivered(
        self, delivery: _Delivery, seq: int, history: list[dict[str, Any]], queue: deque[_Delivery]
    ) -> int:
        """What the host records right after an event of a retried task; the next seq."""
        retry, event = delivery.retry, delivery.event
        if retry is None:
            return seq
        if event["EventType"] == TASK_FAILED:
            delay = retry.first_interval_ms * retry.backoff ** (retry.attempt - 1) / 1000
            fire_at = (self.now + timedelta(seconds=delay)).isoformat().replace("+00:00", "Z")
            history.append(self._event(TIMER_CREATED, seq, FireAt=fire_at))
            queue.append(_Delivery(self._event(TIMER_FIRED, TimerId=seq, FireAt=fire_at), retry))
            return seq + 1
        if event["EventType"] == TIMER_FIRED and retry.attempt < retry.max_attempts:
            retry.attempt += 1
            history.append(self._event(TASK_SCHEDULED, seq, Name=retry.name, Input=retry.input))
            queue.append(await self._attempt(seq, retry.name, retry.input, retry))
            return seq + 1
        return seq

    # -- a whole orchestration ----------------------------------------------------------------

    async def run(
        self, name: str, instance_id: str, payload: Any, *, max_episodes: int = 500
    ) -> OrchestrationRun:
        """Start ``name`` with ``payload`` and replay it until it completes or fails."""
        input_json = df_dumps(payload)
        history = [
            self._started(),
            self._event(
                EXECUTION_STARTED,
                Name=name,
                Input=input_json,
                Version="",
                OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": instance_id},
            ),
        ]
        queue: deque[_Delivery] = deque()
        seen = seq = 0
        for episode in itertools.count(1):
            state = self.replay(name, instance_id, input_json, history)
            actions = [a for group in state["actions"] for a in group]
            for action in actions[seen:]:
                await self._schedule(instance_id, action, seq, history, queue)
                seq += 1
            seen = len(actions)
            if state.get("isDone") or state.get("error"):
                return OrchestrationRun(instance_id, history, state, episode)
            if not queue:
                raise RuntimeError(f"{instance_id} is stuck: nothing pending, not done")
            if episode >= max_episodes:
                raise RuntimeError(f"{instance_id} did not finish in {max_episodes} episodes")
            history.append(self._event(ORCHESTRATOR_COMPLETED))
            delivery = queue.popleft()
            history.extend([self._started(), delivery.event])
            seq = await self._delivered(delivery, seq, history, queue)
        raise AssertionError("unreachable")

    def replay_final(self, name: str, run: OrchestrationRun, payload: Any) -> dict[str, Any]:
        """Replay a finished run's whole history again: it must give the same state."""
        return self.replay(name, run.instance_id, df_dumps(payload), run.history)
