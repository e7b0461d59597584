"""The sweeper: what a timer runs so that no work is stranded and no history piles up.

Every run, bounded to :data:`SWEEP_LIMIT` instances of each kind:

1. **Dead letters.** Batches the trigger could not start after its last retry were written
   to the dead-letter entities (``memory_deadletters``, :data:`DEAD_LETTER_SHARDS` shards);
   each is started now (the same derived instance id) and removed once started; while the
   task hub still refuses, they stay for the next run and the sweep goes on.
2. **Dead instances.** Pipeline instances that ended Failed or Terminated within
   :data:`~agent_memory.durable.timing.HISTORY_RETENTION` are started again with their
   input (``NonRunningStates`` lets ``start_new`` replace them), at most :data:`MAX_RERUNS`
   times each: a re-run takes back the claims the dead execution held, records its batch
   (counting nothing twice) and drains the user's waiting work.
3. **History.** Completed, Failed and Terminated instances created before the retention
   window are purged.

The trigger and the sweeper share :func:`agent_memory.durable.host.trigger.start`.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from agent_memory.durable.deadletters import (
    DEAD_LETTER_SHARDS,
    REMOVE,
    DeadLetters,
    dead_letter_entity,
)
from agent_memory.durable.host.forget import FORGET_REASON
from agent_memory.durable.host.hub_client import TaskHubClient
from agent_memory.durable.host.trigger import INSTANCE_PREFIX, runtime_status, start
from agent_memory.durable.messages import OrchestrationRequest, PipelineInput
from agent_memory.durable.names import ORCHESTRATOR
from agent_memory.durable.timing import HISTORY_RETENTION

logger = logging.getLogger("agent_memory.durable")

#: NCRONTAB schedule of the sweeper's timer trigger: every five minutes.
SWEEP_SCHEDULE: Final = "0 */5 * * * *"
#: Instances (and dead letters) handled per run, so one run stays well inside its timeout.
SWEEP_LIMIT: Final = 100
#: Times one dead instance is started again by the sweeper before it is left for an operator.
MAX_RERUNS: Final = 3
_EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)


class SweepReport(BaseModel):
    """What one sweep did."""

    model_config = ConfigDict(extra="forbid")

    replayed: list[str] = Field(default_factory=list, description="dead letters started")
    deferred: int = Field(default=0, description="dead letters the task hub still refused")
    rerun: list[str] = Field(default_factory=list, description="dead instances started again")
    purged: int = 0


async def _replay_dead_letters(client: TaskHubClient, report: SweepReport) -> None:
    budget = SWEEP_LIMIT
    for shard in range(DEAD_LETTER_SHARDS):
        if budget <= 0:
            return
        entity = dead_letter_entity(str(shard))
        response = await client.read_entity_state(entity)
        if not getattr(response, "entity_exists", False):
            continue
        letters = DeadLetters.model_validate(response.entity_state or {})
        batch = letters.requests[:budget]
        budget -= len(batch)
        try:
            await start(client, batch)
        except Exception as exc:  # the task hub still refuses: they stay for the next run
            logger.warning("sweep: dead letters of shard %d not started yet: %s", shard, exc)
            report.deferred += len(batch)
            continue
        ids = [r.instance_id for r in batch]
        if ids:
            await client.signal_entity(entity, REMOVE, ids)
            report.replayed.extend(ids)


async def _rerun_dead_instances(client: TaskHubClient, now: datetime, report: SweepReport) -> None:
    dead = await client.get_status_by(
        created_time_from=now - HISTORY_RETENTION,
        runtime_status=_statuses("Failed", "Terminated"),
    )
    for status in dead[:SWEEP_LIMIT]:
        instance_id = getattr(status, "instance_id", None) or ""
        if getattr(status, "name", ORCHESTRATOR) != ORCHESTRATOR:
            continue
        if not instance_id.startswith(INSTANCE_PREFIX):
            continue
        full = await client.get_status(instance_id, show_input=True)
        try:
            payload = PipelineInput.model_validate(_json_input(getattr(full, "input_", None)))
        except ValueError:
            logger.warning("instance %s has no pipeline input: not re-run", instance_id)
            continue
        if getattr(full, "output", None) == FORGET_REASON:
            await client.purge_instance_history(instance_id)
            report.purged += 1
            continue
        if payload.reruns >= MAX_RERUNS:
            continue
        again = payload.model_copy(update={"reruns": payload.reruns + 1})
        if await runtime_status(client, instance_id) not in ("Failed", "Terminated"):
            continue
        started = await start(client, [OrchestrationRequest(instance_id=instance_id, input=again)])
        report.rerun.extend(started)


def _json_input(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _statuses(*names: str) -> list[Any]:
    from azure.durable_functions.models.OrchestrationRuntimeStatus import (
        OrchestrationRuntimeStatus,
    )

    return [OrchestrationRuntimeStatus(name) for name in names]


async def sweep(client: TaskHubClient, now: datetime) -> SweepReport:
    """One sweep: replay dead letters, re-run dead instances, purge old history."""
    report = SweepReport()
    await _replay_dead_letters(client, report)
    await _rerun_dead_instances(client, now, report)
    purged = await client.purge_instance_history_by(
        created_time_from=_EPOCH,
        created_time_to=now - HISTORY_RETENTION,
        runtime_status=_statuses("Completed", "Failed", "Terminated"),
    )
    report.purged += int(getattr(purged, "instances_deleted", 0) or 0)
    if report.replayed or report.rerun or report.purged:
        logger.info(
            "sweep: %d dead letter(s) started, %d instance(s) re-run, %d purged",
            len(report.replayed),
            len(report.rerun),
            report.purged,
        )
    return report
