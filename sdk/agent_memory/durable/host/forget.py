"""``forget(user)`` in the task hub: the user's counter entity, instances and dead letters go.

Order matters: running instances are terminated first (no new activity is scheduled for the
user), then the counter entity is deleted and the user's dead letters dropped, then every
finished instance of the user is purged. Terminated instances that are still shutting down are
purged by the sweeper, which never re-runs an instance terminated for this reason. Activities
already executing may still finish; the store's own ``forget`` must make their writes no-ops.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict

from agent_memory.core.validation import check_identifier
from agent_memory.durable.deadletters import (
    FORGET_USER,
    dead_letter_entity,
    dead_letter_shard,
)
from agent_memory.durable.host.hub_client import TaskHubClient
from agent_memory.durable.host.trigger import instance_prefix
from agent_memory.durable.names import FORGET
from agent_memory.durable.orchestration import counter_entity_id
from agent_memory.durable.timing import HISTORY_RETENTION

if TYPE_CHECKING:
    import azure.functions as func

logger = logging.getLogger("agent_memory.durable")

#: The reason a forgotten user's instances are terminated with (the sweeper skips them).
FORGET_REASON: Final = "forgotten: the user's memory was deleted"
_FINISHED: Final = ("Completed", "Failed", "Terminated")


class TaskHubForgetReport(BaseModel):
    """What forgetting a user removed from the task hub."""

    model_config = ConfigDict(extra="forbid")

    user_id: str
    terminated: int = 0
    purged: int = 0


def _status_name(status: Any) -> str:
    found = getattr(status, "runtime_status", None)
    return "" if found is None else str(getattr(found, "name", found))


async def forget_task_hub(
    client: TaskHubClient, user_id: str, now: datetime
) -> TaskHubForgetReport:
    """Terminate and purge the user's instances, delete its counter entity and dead letters.

    ``ValueError`` for an invalid user id, before anything is touched. Instances are found
    by their derived id prefix among those created in the retention window (older ones have
    been purged by the sweeper).
    """
    user_id = check_identifier(user_id, "user_id")
    report = TaskHubForgetReport(user_id=user_id)
    prefix = instance_prefix(user_id)
    since = now - HISTORY_RETENTION * 2
    mine = [
        s
        for s in await client.get_status_by(created_time_from=since)
        if str(getattr(s, "instance_id", "")).startswith(prefix)
    ]
    for status in mine:
        if _status_name(status) not in _FINISHED:
            await client.terminate(status.instance_id, FORGET_REASON)
            report.terminated += 1
    await client.signal_entity(counter_entity_id(user_id), FORGET)
    await client.signal_entity(dead_letter_entity(dead_letter_shard(user_id)), FORGET_USER, user_id)
    for status in mine:
        result = await client.purge_instance_history(status.instance_id)
        report.purged += int(getattr(result, "instances_deleted", 0) or 0)
    logger.info(
        "forgot user in the task hub: %d instance(s) terminated, %d purged",
        report.terminated,
        report.purged,
    )
    return report


async def forget_user(client: TaskHubClient, user_id: str, now: datetime) -> dict[str, Any]:
    """Forget a user everywhere the app keeps it: the task hub, then the worker's store.

    Returns ``{"task_hub": {...}, "store": {...}}`` (what each removed). ``ValueError`` for
    an invalid user id, before anything is touched.
    """
    from agent_memory.durable.host.worker import get_worker

    hub = await forget_task_hub(client, user_id, now)
    worker = await get_worker()
    removed = await worker.store.forget(hub.user_id)
    return {"task_hub": hub.model_dump(mode="json"), "store": removed}


async def forget_user_http(client: TaskHubClient, user_id: str) -> func.HttpResponse:
    """The HTTP function's body: 200 with what was removed, 400 for an invalid user id."""
    import json
    from datetime import UTC

    import azure.functions as func

    try:
        body = await forget_user(client, user_id, datetime.now(UTC))
    except ValueError as exc:
        return func.HttpResponse(
            json.dumps({"error": str(exc)}), status_code=400, mimetype="application/json"
        )
    return func.HttpResponse(json.dumps(body), status_code=200, mimetype="application/json")
