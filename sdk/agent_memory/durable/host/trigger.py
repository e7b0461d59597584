"""The change-feed trigger's logic: group a batch's new turns by user, one orchestration each.

Instance ids are derived from the batch's turns (a hash of the sorted ``(user, thread, turn id,
_lsn)``), so a redelivered batch maps to the same ids. An instance that is Pending, Running or
Completed is not started again; a Failed or Terminated one is started afresh (the task hub's
``NonRunningStates`` lets ``start_new`` replace it). Orchestration inputs carry ids and
sequence numbers only, never turn text.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Protocol

from pydantic import ValidationError

from agent_memory.core.due import Thresholds
from agent_memory.core.status import OWNER_DURABLE
from agent_memory.core.validation import check_identifier
from agent_memory.durable.deadletters import dead_letter
from agent_memory.durable.messages import OrchestrationRequest, PipelineInput, TurnRef
from agent_memory.durable.names import ORCHESTRATOR
from agent_memory.settings import Settings

logger = logging.getLogger("agent_memory.durable")

#: Fields a change-feed document must have to be a turn.
TURN_FIELDS = ("id", "user_id", "thread_id", "role", "_lsn")


def feed_turn(document: Mapping[str, Any]) -> tuple[str, TurnRef] | None:
    """``(user_id, turn)`` for a turn document of the change feed, None for anything else.

    Turns are append-only, so every turn the feed delivers is a newly created one; documents
    without a turn's fields, or with ids that fail validation, are skipped and logged.
    """
    if any(field not in document for field in TURN_FIELDS):
        return None
    try:
        user_id = check_identifier(document["user_id"], "user_id")
        seq = document.get("seq")
        turn = TurnRef(
            thread_id=document["thread_id"],
            turn_id=document["id"],
            lsn=int(document["_lsn"]),
            seq=None if seq is None else int(seq),
        )
    except (ValueError, TypeError, ValidationError) as exc:
        logger.warning("skipping change-feed document %r: %s", document.get("id"), exc)
        return None
    return user_id, turn


#: Every pipeline instance id starts with this.
INSTANCE_PREFIX: Final = "memory-"


def instance_prefix(user_id: str) -> str:
    """``memory-<sha256(user)[:12]>-``: what every instance id of the user starts with."""
    return f"{INSTANCE_PREFIX}{hashlib.sha256(user_id.encode()).hexdigest()[:12]}-"


def instance_id_for(user_id: str, turns: Sequence[TurnRef]) -> str:
    """``memory-<user hash>-<batch hash>``: the same turns always give the same id."""
    keys = sorted((user_id, t.thread_id, t.turn_id, t.lsn) for t in turns)
    batch = hashlib.sha256(json.dumps(keys, separators=(",", ":")).encode()).hexdigest()
    return f"{instance_prefix(user_id)}{batch[:32]}"


def plan(
    documents: Iterable[Mapping[str, Any]],
    *,
    thresholds: Thresholds,
    owner: str = OWNER_DURABLE,
) -> list[OrchestrationRequest]:
    """One request per user, users and turns in feed order, each (thread, turn id) once."""
    groups: dict[str, dict[str, TurnRef]] = {}  # user -> "thread/turn id" -> turn
    for document in documents:
        found = feed_turn(document)
        if found is not None:
            user_id, turn = found
            groups.setdefault(user_id, {}).setdefault(f"{turn.thread_id}/{turn.turn_id}", turn)
    requests = []
    for user_id, by_id in groups.items():
        turns = list(by_id.values())
        requests.append(
            OrchestrationRequest(
                instance_id=instance_id_for(user_id, turns),
                input=PipelineInput(
                    user_id=user_id, turns=turns, thresholds=thresholds, owner=owner
                ),
            )
        )
    return requests


class StarterClient(Protocol):
    """What the trigger uses of ``azure.durable_functions.DurableOrchestrationClient``."""

    async def get_status(self, instance_id: str) -> Any: ...

    async def signal_entity(
        self, entityId: Any, operation_name: str, operation_input: Any | None = None
    ) -> Any: ...

    async def start_new(
        self,
        orchestration_function_name: str,
        instance_id: str | None = None,
        client_input: Any | None = None,
    ) -> Any: ...


#: Runtime statuses after which the same batch is started again.
RERUN_STATUSES: Final = frozenset({"Failed", "Terminated"})


async def runtime_status(client: StarterClient, instance_id: str) -> str | None:
    """The instance's runtime status name (``"Running"``, ``"Failed"``…), None if it has none."""
    status = await client.get_status(instance_id)
    found = getattr(status, "runtime_status", None)
    return None if found is None else str(getattr(found, "name", found))


async def _start(client: StarterClient, request: OrchestrationRequest) -> str | None:
    status = await runtime_status(client, request.instance_id)
    if status is not None and status not in RERUN_STATUSES:
        logger.info("orchestration %s is %s: batch already started", request.instance_id, status)
        return None
    if status is not None:
        logger.warning(
            "orchestration %s was %s: running the batch again", request.instance_id, status
        )
    try:
        await client.start_new(
            ORCHESTRATOR, request.instance_id, request.input.model_dump(mode="json")
        )
    except Exception:
        again = await runtime_status(client, request.instance_id)
        if again is not None and again not in RERUN_STATUSES:
            return None  # a concurrent delivery of the same batch started it ("already exists")
        raise
    return request.instance_id


async def start(client: StarterClient, requests: Sequence[OrchestrationRequest]) -> list[str]:
    """Start every request whose instance does not exist yet; the ids started.

    Every request is tried; the first failure is raised after all have been.
    """
    started, failed = await _start_each(client, requests)
    if failed:
        raise failed[0][1]
    return started


async def _start_each(
    client: StarterClient, requests: Sequence[OrchestrationRequest]
) -> tuple[list[str], list[tuple[OrchestrationRequest, Exception]]]:
    outcomes = await asyncio.gather(*(_start(client, r) for r in requests), return_exceptions=True)
    started: list[str] = []
    failed: list[tuple[OrchestrationRequest, Exception]] = []
    for request, outcome in zip(requests, outcomes, strict=True):
        if isinstance(outcome, Exception):
            failed.append((request, outcome))
        elif isinstance(outcome, BaseException):
            raise outcome
        elif outcome is not None:
            started.append(outcome)
    return started, failed


async def on_change_feed(
    client: StarterClient,
    documents: Iterable[Mapping[str, Any]],
    settings: Settings | None = None,
    *,
    last_attempt: bool = False,
) -> list[str]:
    """The trigger body: skip unless the durable app owns the pipeline, else start per user.

    A request that cannot be started fails the invocation, so the retry policy delivers the
    batch again (started instances are skipped then). On the ``last_attempt`` of the retry
    policy, after which the Cosmos DB trigger would checkpoint past the batch, the requests
    that still fail are written to the dead-letter entities for the sweeper instead.
    """
    settings = settings or Settings.from_env()
    batch = list(documents)
    if settings.processor_owner != OWNER_DURABLE:
        logger.info(
            "MEMORY_PROCESSOR_OWNER=%s: SDK clients run the pipeline; %d change(s) skipped",
            settings.processor_owner,
            len(batch),
        )
        return []
    started, failed = await _start_each(client, plan(batch, thresholds=settings.thresholds))
    if failed and not last_attempt:
        raise failed[0][1]
    if failed:
        await dead_letter(client, [request for request, _ in failed])
    return started
