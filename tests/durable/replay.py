"""A stand-in for the Durable Functions host: replays registered orchestrators for real.

The host never runs an orchestrator once: it re-runs it from scratch over its growing history
every time something happens, and the orchestrator answers with every action it has scheduled
so far. :class:`ReplayHost` does the same with the handlers a ``DFApp`` registers (the very
functions the host would call, JSON string in, JSON string out), in the protocol the Durable
extension negotiates:

- the orchestrator input carries ``upperSchemaVersion`` / ``upperSchemaVersionNew`` as the
  extension sends them, so the SDK answers in the V3 shape: ``schemaVersion`` 2, one flat
  action list in which ``task_all`` and retried calls are nested ``WhenAll`` (type 12)
  compound actions. The host walks that list as the extension's ``OutOfProcOrchestrationShim``
  does (compound actions expand to their children, in order) and rejects any other shape;
- one episode per delivery: ``OrchestratorStarted``, the delivered events (several at once and
  in any order when the host is shuffled), then what the episode scheduled (``TaskScheduled``,
  ``EventSent``, ``TimerCreated``) with event ids allocated in the order DTFx allocates them
  (event by event, the retry interceptor's timer or rescheduled attempt before the actions
  the event unblocked), then ``OrchestratorCompleted``;
- activities run for real (the registered activity functions) whenever the host chooses, so
  several are in flight at once; failures come back as ``TaskFailed``; retried calls get the
  ``TimerCreated``/``TimerFired``/``TaskScheduled`` records of DTFx's retry interceptor, with
  the extra timer after the last attempt that the SDK waits for;
- entities have a FIFO inbox each; the host runs the entity function over a batch of queued
  operations (from any orchestration), and answers ``call_entity`` with an ``EventRaised``
  named after the request id, as the extension does;
- instances have a runtime status; ``start_new`` follows ``NonRunningStates``: an instance
  that is Pending or Running makes it raise "already exists", a Completed, Failed or
  Terminated one is silently replaced.

:class:`HostClient` is the ``DurableOrchestrationClient`` side the trigger and timers see,
returning the SDK's own status and result types.
"""

from __future__ import annotations

import inspect
import json
import random
import traceback
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus
from azure.durable_functions.models.EntityStateResponse import EntityStateResponse
from azure.durable_functions.models.PurgeHistoryResult import PurgeHistoryResult
from azure.functions._durable_functions import df_dumps

ORCHESTRATOR_STARTED = 12
ORCHESTRATOR_COMPLETED = 13
EXECUTION_STARTED = 0
EXECUTION_TERMINATED = 2
TASK_SCHEDULED = 4
TASK_COMPLETED = 5
TASK_FAILED = 6
TIMER_CREATED = 10
TIMER_FIRED = 11
EVENT_SENT = 14
EVENT_RAISED = 15

CALL_ACTIVITY = 0
CALL_ACTIVITY_WITH_RETRY = 1
CONTINUE_AS_NEW = 4
CREATE_TIMER = 5
CALL_ENTITY = 7
SIGNAL_ENTITY = 9
WHEN_ANY = 11
WHEN_ALL = 12

#: What the Durable extension (2.x) sends: ReplaySchema V2 and, for SDKs that know it, V3.
UPPER_SCHEMA_VERSION = 1
UPPER_SCHEMA_VERSION_NEW = 2

PENDING, RUNNING, COMPLETED, FAILED, TERMINATED = (
    "Pending",
    "Running",
    "Completed",
    "Failed",
    "Terminated",
)
NON_RUNNING = (COMPLETED, FAILED, TERMINATED)


_INDEXED: dict[int, list[Any]] = {}


def indexed(app: Any) -> list[Any]:
    """``app.get_functions()``, once per app (a second call fails its uniqueness check)."""
    if id(app) not in _INDEXED:
        _INDEXED[id(app)] = app.get_functions()
    return _INDEXED[id(app)]


def leaves(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The schedulable actions of a V3 action list: compound actions expand, in order."""
    found: list[dict[str, Any]] = []
    for action in actions:
        if action["actionType"] in (WHEN_ALL, WHEN_ANY):
            found.extend(leaves(action["compoundActions"]))
        else:
            found.append(action)
    return found


def v3_actions(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The flat action list of an orchestrator's V3 answer; ``AssertionError`` otherwise."""
    assert state.get("schemaVersion") == UPPER_SCHEMA_VERSION_NEW, state.get("schemaVersion")
    actions = state["actions"]
    assert len(actions) == 1, "V2+ schemas answer with one action list"
    flat: list[dict[str, Any]] = actions[0]
    return flat


@dataclass
class ActivityCall:
    """One execution of an activity function."""

    name: str
    input: Any
    ok: bool
    result: Any = None
    error: str | None = None
    instance_id: str = ""


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
        """Every schedulable action, compound actions expanded."""
        return leaves(v3_actions(self.state))

    def events(self, event_type: int) -> list[dict[str, Any]]:
        return [e for e in self.history if e["EventType"] == event_type]


@dataclass
class _Retry:
    name: str
    input: str
    first_interval_ms: int
    max_attempts: int
    backoff: float
    max_interval_ms: float
    attempt: int = 1


@dataclass
class _Activity:
    instance_id: str
    execution: int
    task_id: int
    name: str
    input: str
    retry: _Retry | None


@dataclass
class _Request:
    """An operation waiting in an entity's inbox."""

    id: str
    operation: str
    input: str
    parent: str | None
    execution: int


@dataclass
class Instance:
    """One orchestration instance: its history, inbox and runtime status."""

    name: str
    instance_id: str
    input_json: str
    created: datetime
    execution: int
    status: str = PENDING
    history: list[dict[str, Any]] = field(default_factory=list)
    inbox: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    scheduled: int = 0
    seq: int = 0
    episodes: int = 0
    retries: dict[int, _Retry] = field(default_factory=dict)
    updated: datetime | None = None
    generations: int = 0

    def run(self) -> OrchestrationRun:
        return OrchestrationRun(self.instance_id, self.history, self.state, self.episodes)


class EntityHost:
    """Entity instances and their state, driven through a registered entity function."""

    def __init__(self, handlers: dict[str, Any]) -> None:
        self.handlers = handlers
        self.instances: dict[tuple[str, str], tuple[bool, str | None]] = {}
        self.batches = 0

    def run(self, name: str, key: str, batch: list[tuple[str, Any]]) -> list[dict[str, Any]]:
        """Run an operation batch; the raw results (``isError``, ``result`` as JSON)."""
        return self.run_raw(name, key, [(op, df_dumps(value)) for op, value in batch])

    def run_raw(self, name: str, key: str, batch: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Run operations whose inputs are JSON, as one entity invocation (the host encodes
        each input once more, as the extension does)."""
        exists, state = self.instances.get((name, key), (False, None))
        payload = {
            "self": {"name": name, "key": key},
            "exists": exists,
            "state": state,
            "batch": [{"name": op, "input": json.dumps(value)} for op, value in batch],
        }
        output = json.loads(self.handlers[name](json.dumps(payload)))
        self.batches += 1
        if output["entityExists"]:
            self.instances[(name, key)] = (True, output["entityState"])
        else:
            self.instances.pop((name, key), None)
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

    def raw_state(self, name: str, key: str) -> str | None:
        """The entity's state as the host stores it (JSON), None when it has none."""
        return self.instances.get((name, key), (False, None))[1]


class ReplayHost:
    """Runs the orchestrations, activities and entities of a ``DFApp`` as the host would.

    ``rng=None`` runs everything in FIFO order, one event per episode. With an ``rng`` the
    host picks the next piece of work at random among the ready ones (an episode of any
    instance with events, an activity, an entity batch), delivers a random subset of an
    instance's events in shuffled order as one episode, and runs entity batches of random size.
    ``fail_rate`` makes that share of activity attempts fail before the activity runs (a
    crashed worker); ``duplicate_rate`` runs that share of activities twice (at-least-once
    delivery), the second result being the one reported.
    """

    def __init__(
        self,
        app: Any,
        *,
        start: datetime | None = None,
        rng: random.Random | None = None,
        fail_rate: float = 0.0,
        duplicate_rate: float = 0.0,
    ) -> None:
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
        self.rng = rng
        self.fail_rate = fail_rate
        self.duplicate_rate = duplicate_rate
        self.calls: list[ActivityCall] = []
        self.replays = 0
        self.instances: dict[str, Instance] = {}
        self.executions = 0
        self._activities: deque[_Activity] = deque()
        self._inboxes: dict[tuple[str, str], deque[_Request]] = {}
        self.client = HostClient(self)

    # -- time and events -----------------------------------------------------------------

    def stamp(self) -> str:
        return self.now.isoformat().replace("+00:00", "Z")

    def advance(self, seconds: float) -> None:
        """Move the host's clock (what ``current_utc_datetime`` reports) forward."""
        self.now += timedelta(seconds=seconds)

    def _event(self, event_type: int, event_id: int = -1, **fields: Any) -> dict[str, Any]:
        return {
            "EventType": event_type,
            "EventId": event_id,
            "IsPlayed": False,
            "Timestamp": self.stamp(),
            **fields,
        }

    # -- instances ------------------------------------------------------------------------

    def start_new(self, name: str, instance_id: str, payload: Any) -> None:
        """Create an instance (``NonRunningStates`` semantics); its first episode is queued."""
        existing = self.instances.get(instance_id)
        if existing is not None and existing.status not in NON_RUNNING:
            raise Exception(
                f"An Orchestration instance with the ID '{instance_id}' already exists."
            )
        self.executions += 1
        instance = Instance(name, instance_id, df_dumps(payload), self.now, self.executions)
        instance.inbox.append(
            self._event(
                EXECUTION_STARTED,
                Name=name,
                Input=instance.input_json,
                Version="",
                OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": instance_id},
            )
        )
        self.instances[instance_id] = instance

    def terminate(self, instance_id: str, reason: str) -> None:
        """Terminate a Pending or Running instance; its pending work is dropped."""
        instance = self.instances.get(instance_id)
        if instance is None or instance.status in NON_RUNNING:
            return
        instance.status, instance.updated = TERMINATED, self.now
        instance.state = {"isDone": True, "output": reason}
        instance.inbox.clear()

    def purge(self, instance_id: str) -> int:
        """Forget a finished instance and its history; 1 when one was purged."""
        instance = self.instances.get(instance_id)
        if instance is None or instance.status not in NON_RUNNING:
            return 0
        del self.instances[instance_id]
        return 1

    # -- one episode ------------------------------------------------------------------------

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
            "upperSchemaVersion": UPPER_SCHEMA_VERSION,
            "upperSchemaVersionNew": UPPER_SCHEMA_VERSION_NEW,
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

    def _retry_records(self, instance: Instance, event: dict[str, Any]) -> list[dict[str, Any]]:
        """What DTFx's retry interceptor schedules when ``event`` is replayed."""
        kind = event["EventType"]
        if kind == TASK_FAILED and event["TaskScheduledId"] in instance.retries:
            retry = instance.retries.pop(event["TaskScheduledId"])
            delay = min(
                retry.first_interval_ms * retry.backoff ** (retry.attempt - 1),
                retry.max_interval_ms,
            )
            fire_at = (self.now + timedelta(milliseconds=delay)).isoformat()
            timer_id = instance.seq
            instance.seq += 1
            instance.retries[timer_id] = retry
            fired = self._event(
                TIMER_FIRED, TimerId=timer_id, FireAt=fire_at.replace("+00:00", "Z")
            )
            instance.inbox.append(fired)
            return [self._event(TIMER_CREATED, timer_id, FireAt=fired["FireAt"])]
        if kind == TIMER_FIRED and event["TimerId"] in instance.retries:
            retry = instance.retries.pop(event["TimerId"])
            if retry.attempt >= retry.max_attempts:
                return []  # the extra timer after the last attempt: the task fails now
            retry.attempt += 1
            task_id = instance.seq
            instance.seq += 1
            instance.retries[task_id] = retry
            self._activities.append(
                _Activity(
                    instance.instance_id,
                    instance.execution,
                    task_id,
                    retry.name,
                    retry.input,
                    retry,
                )
            )
            return [self._event(TASK_SCHEDULED, task_id, Name=retry.name, Input=retry.input)]
        return []

    def _schedule(self, instance: Instance, action: dict[str, Any]) -> dict[str, Any]:
        """The history record of a newly scheduled action; queues its work."""
        task_id = instance.seq
        instance.seq += 1
        kind = action["actionType"]
        if kind in (CALL_ACTIVITY, CALL_ACTIVITY_WITH_RETRY):
            name, input_json = action["functionName"], action["input"]
            retry = None
            if kind == CALL_ACTIVITY_WITH_RETRY:
                options = action["retryOptions"]
                retry = _Retry(
                    name,
                    input_json,
                    options["firstRetryIntervalInMilliseconds"],
                    options["maxNumberOfAttempts"],
                    float(options.get("backoffCoefficient", 1.0)),
                    float(options.get("maxRetryIntervalInMilliseconds", 6 * 24 * 3600 * 1000)),
                )
                instance.retries[task_id] = retry
            self._activities.append(
                _Activity(
                    instance.instance_id, instance.execution, task_id, name, input_json, retry
                )
            )
            return self._event(TASK_SCHEDULED, task_id, Name=name, Input=input_json)
        if kind in (CALL_ENTITY, SIGNAL_ENTITY):
            _, entity_name, key = action["instanceId"].split("@", 2)
            request_id = f"{instance.instance_id}:{instance.execution}:{task_id}"
            signal = kind == SIGNAL_ENTITY
            self._inboxes.setdefault((entity_name, key), deque()).append(
                _Request(
                    request_id,
                    action["operation"],
                    action["input"],
                    None if signal else instance.instance_id,
                    instance.execution,
                )
            )
            request = {
                "id": request_id,
                "op": action["operation"],
                "signal": signal,
                "input": action["input"],
                "parent": instance.instance_id,
            }
            return self._event(
                EVENT_SENT,
                task_id,
                InstanceId=action["instanceId"],
                Name="op",
                Input=json.dumps(request),
            )
        if kind == CREATE_TIMER:
            instance.inbox.append(
                self._event(TIMER_FIRED, TimerId=task_id, FireAt=action["fireAt"])
            )
            return self._event(TIMER_CREATED, task_id, FireAt=action["fireAt"])
        raise NotImplementedError(f"action type {kind} is not replayed here: {action}")

    def _episode(self, instance: Instance, events: list[dict[str, Any]]) -> None:
        """Deliver ``events`` as one episode and record what the orchestrator scheduled."""
        instance.status = RUNNING
        instance.episodes += 1
        base = [*instance.history, self._event(ORCHESTRATOR_STARTED)]
        records: list[dict[str, Any]] = []
        state: dict[str, Any] = {}
        for i in range(len(events)):
            records.extend(self._retry_records(instance, events[i]))
            # the actions the events so far unblocked get the next ids (DTFx's order)
            state = self.replay(
                instance.name, instance.instance_id, instance.input_json, base + events[: i + 1]
            )
            new = leaves(v3_actions(state))
            for action in new[instance.scheduled :]:
                if action["actionType"] != CONTINUE_AS_NEW:
                    records.append(self._schedule(instance, action))
            instance.scheduled = max(instance.scheduled, len(new))
        instance.history = [*base, *events, *records]
        instance.state = state
        instance.updated = self.now
        restart = [a for a in leaves(v3_actions(state)) if a["actionType"] == CONTINUE_AS_NEW]
        if state.get("isDone") and restart:
            self._continue_as_new(instance, restart[-1]["input"])
        elif state.get("isDone"):
            instance.status = COMPLETED
        elif state.get("error"):
            instance.status = FAILED
        else:
            instance.history.append(self._event(ORCHESTRATOR_COMPLETED))

    def _continue_as_new(self, instance: Instance, input_json: Any) -> None:
        """Start the instance's next execution: same id, fresh history, the new input."""
        self.executions += 1
        instance.generations += 1
        instance.execution = self.executions
        instance.input_json = input_json if isinstance(input_json, str) else df_dumps(input_json)
        instance.history, instance.state = [], {}
        instance.scheduled = instance.seq = 0
        instance.retries = {}
        instance.inbox = [
            self._event(
                EXECUTION_STARTED,
                Name=instance.name,
                Input=instance.input_json,
                Version="",
                OrchestrationInstance={
                    "InstanceId": instance.instance_id,
                    "ExecutionId": f"{instance.instance_id}:{instance.execution}",
                },
            )
        ]

    # -- work ---------------------------------------------------------------------------------

    async def execute(self, name: str, input_json: str, instance_id: str = "") -> tuple[bool, str]:
        """Run an activity as the worker does; ``(ok, result JSON or failure reason)``."""
        value = json.loads(input_json)
        try:
            if self.rng is not None and self.rng.random() < self.fail_rate:
                raise ConnectionError("injected failure: the worker lost this attempt")
            result = self.activities[name](value)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            self.calls.append(
                ActivityCall(name, value, False, error=f"{exc}", instance_id=instance_id)
            )
            return False, f"Activity function '{name}' failed: {type(exc).__name__}: {exc}"
        self.calls.append(ActivityCall(name, value, True, result=result, instance_id=instance_id))
        return True, df_dumps(result)

    def _current(self, instance_id: str, execution: int) -> Instance | None:
        instance = self.instances.get(instance_id)
        if instance is None or instance.execution != execution or instance.status in NON_RUNNING:
            return None
        return instance

    async def _run_activity(self, work: _Activity) -> None:
        ok, payload = await self.execute(work.name, work.input, work.instance_id)
        if ok and self.rng is not None and self.rng.random() < self.duplicate_rate:
            ok, payload = await self.execute(work.name, work.input, work.instance_id)
        instance = self._current(work.instance_id, work.execution)
        if instance is None:
            return  # the instance was terminated or replaced meanwhile
        if ok:
            event = self._event(TASK_COMPLETED, TaskScheduledId=work.task_id, Result=payload)
        else:
            details = "".join(traceback.format_exception_only(RuntimeError(payload)))
            event = self._event(
                TASK_FAILED, TaskScheduledId=work.task_id, Reason=payload, Details=details
            )
        instance.inbox.append(event)

    def _run_entity(self, key: tuple[str, str], size: int) -> None:
        inbox = self._inboxes[key]
        batch = [inbox.popleft() for _ in range(min(size, len(inbox)))]
        if not inbox:
            del self._inboxes[key]
        results = self.entities.run_raw(key[0], key[1], [(r.operation, r.input) for r in batch])
        for request, result in zip(batch, results, strict=True):
            if request.parent is None:
                continue
            instance = self._current(request.parent, request.execution)
            if instance is None:
                continue
            response: dict[str, Any] = {"result": result["result"]}
            if result["isError"]:
                response["exceptionType"] = "System.Exception"
            instance.inbox.append(
                self._event(EVENT_RAISED, Name=request.id, Input=json.dumps(response))
            )

    def signal(self, entity_name: str, key: str, operation: str, value: Any) -> None:
        """Queue a fire-and-forget operation for an entity (a client's ``signal_entity``)."""
        self._inboxes.setdefault((entity_name.lower(), key), deque()).append(
            _Request(f"signal:{len(self._inboxes)}", operation, df_dumps(value), None, 0)
        )

    def ready(self) -> bool:
        """True while anything is left to run."""
        return bool(
            self._activities
            or self._inboxes
            or any(i.inbox for i in self.instances.values() if i.status not in NON_RUNNING)
        )

    async def step(self) -> bool:
        """Run one piece of ready work; False when nothing is ready."""
        episodes = [i for i in self.instances.values() if i.inbox and i.status not in NON_RUNNING]
        choices: list[tuple[str, Any]] = [("episode", i) for i in episodes]
        choices += [("activity", a) for a in self._activities]
        choices += [("entity", k) for k in self._inboxes]
        if not choices:
            return False
        self.advance(1)
        others = choices[len(episodes) :]
        if self.rng is None:
            kind, item = choices[0]
        elif others and self.rng.random() < 0.75:  # let completions pile up between episodes
            kind, item = self.rng.choice(others)
        else:
            kind, item = self.rng.choice(choices)
        if kind == "episode":
            instance: Instance = item
            if self.rng is None:
                events = [instance.inbox.pop(0)]
            else:
                # several events at once, in any order; ExecutionStarted always opens a history
                count = self.rng.randint(1, len(instance.inbox))
                picked = self.rng.sample(range(len(instance.inbox)), count)
                events = [instance.inbox[i] for i in picked]
                instance.inbox = [e for i, e in enumerate(instance.inbox) if i not in picked]
                events.sort(key=lambda e: e["EventType"] != EXECUTION_STARTED)
            for event in events:  # a timer fires at its time: the host's clock moves there
                if event["EventType"] == TIMER_FIRED:
                    fire_at = datetime.fromisoformat(event["FireAt"].replace("Z", "+00:00"))
                    self.now = max(self.now, fire_at)
            self._episode(instance, events)
        elif kind == "activity":
            self._activities.remove(item)
            await self._run_activity(item)
        else:
            size = 1 if self.rng is None else self.rng.randint(1, len(self._inboxes[item]))
            self._run_entity(item, size)
        return True

    async def drain(self, *, max_steps: int = 1_000_000) -> int:
        """Run until nothing is left; the number of steps taken."""
        for steps in range(max_steps):
            if not await self.step():
                return steps
        raise RuntimeError(f"the host did not settle in {max_steps} steps")

    # -- a whole orchestration ----------------------------------------------------------------

    async def run(self, name: str, instance_id: str, payload: Any) -> OrchestrationRun:
        """Start ``name`` with ``payload`` and run the host until everything settles."""
        self.start_new(name, instance_id, payload)
        await self.drain()
        instance = self.instances[instance_id]
        if instance.status not in NON_RUNNING:
            raise RuntimeError(f"{instance_id} is stuck: nothing pending, not done")
        return instance.run()

    def replay_final(self, name: str, run: OrchestrationRun, payload: Any) -> dict[str, Any]:
        """Replay a finished run's whole history again: it must give the same state."""
        return self.replay(name, run.instance_id, df_dumps(payload), run.history)


class HostClient:
    """The ``DurableOrchestrationClient`` surface the app uses, answered by a :class:`ReplayHost`.

    Statuses and results are the SDK's own types (``DurableOrchestrationStatus``,
    ``PurgeHistoryResult``, ``EntityStateResponse``).
    """

    def __init__(self, host: ReplayHost) -> None:
        self.host = host
        self.started: dict[str, Any] = {}
        self.start_calls = 0

    async def get_status(
        self,
        instance_id: str,
        show_history: bool = False,
        show_history_output: bool = False,
        show_input: bool = False,
    ) -> Any:
        instance = self.host.instances.get(instance_id)
        if instance is None:  # the extension answers 404 with an empty body
            return DurableOrchestrationStatus()
        return DurableOrchestrationStatus(
            name=instance.name,
            instanceId=instance_id,
            createdTime=instance.created.isoformat(),
            lastUpdatedTime=(instance.updated or instance.created).isoformat(),
            input=instance.input_json if show_input else None,
            runtimeStatus=instance.status,
            output=instance.state.get("output"),
        )

    async def get_status_by(
        self,
        created_time_from: datetime | None = None,
        created_time_to: datetime | None = None,
        runtime_status: list[Any] | None = None,
    ) -> list[Any]:
        wanted = {getattr(s, "value", s) for s in runtime_status or []}
        found = []
        for instance in list(self.host.instances.values()):
            if created_time_from is not None and instance.created < created_time_from:
                continue
            if created_time_to is not None and instance.created > created_time_to:
                continue
            if wanted and instance.status not in wanted:
                continue
            found.append(await self.get_status(instance.instance_id))
        return found

    async def start_new(
        self,
        orchestration_function_name: str,
        instance_id: str | None = None,
        client_input: Any | None = None,
    ) -> str:
        assert instance_id, "the app always derives its instance ids"
        self.start_calls += 1
        self.host.start_new(orchestration_function_name, instance_id, client_input)
        self.started[instance_id] = client_input
        return instance_id

    async def terminate(self, instance_id: str, reason: str) -> None:
        self.host.terminate(instance_id, reason)

    async def purge_instance_history(self, instance_id: str) -> Any:
        return PurgeHistoryResult(instancesDeleted=self.host.purge(instance_id))

    async def purge_instance_history_by(
        self,
        created_time_from: datetime | None = None,
        created_time_to: datetime | None = None,
        runtime_status: list[Any] | None = None,
    ) -> Any:
        if created_time_from is None:
            raise ValueError("created_time_from is required when purging instance history")
        found = await self.get_status_by(created_time_from, created_time_to, runtime_status)
        deleted = sum(self.host.purge(s.instance_id) for s in found)
        return PurgeHistoryResult(instancesDeleted=deleted)

    async def signal_entity(
        self, entityId: Any, operation_name: str, operation_input: Any | None = None, **_: Any
    ) -> None:
        self.host.signal(entityId.name, entityId.key, operation_name, operation_input)

    async def read_entity_state(self, entityId: Any, **_: Any) -> Any:
        state = self.host.entities.state(entityId.name.lower(), entityId.key)
        return EntityStateResponse(state is not None, state)
