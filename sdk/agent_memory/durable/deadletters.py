"""Dead letters: batches the trigger could not start after its last retry, kept for the sweeper.

When the change-feed trigger's retry policy is exhausted, the Cosmos DB trigger checkpoints
its lease and the batch is never delivered again. So on its last attempt the trigger writes
each orchestration request it could not start to a dead-letter entity (``memory_deadletters``,
one of :data:`DEAD_LETTER_SHARDS` by user), and the sweeper starts them later. A request is
small (ids and sequence numbers). Dead letters live in the task hub: they cover failures to
*start* an orchestration (throttling, a rejected start, a transient error outlasting the
retries), not an outage of the task hub's storage itself, during which signalling fails too;
then the batch's turns stay in the store, pending behind the thread's extraction watermark,
and run with the thread's next batch.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any, Final, Protocol

from pydantic import BaseModel, ConfigDict, Field

from agent_memory.durable.entity import EntityContext
from agent_memory.durable.messages import OrchestrationRequest
from agent_memory.durable.names import DEAD_LETTER_ENTITY

logger = logging.getLogger("agent_memory.durable")

#: Dead-letter entities (key ``"0"`` … ``"15"``): a batch goes to the shard of its user.
DEAD_LETTER_SHARDS: Final = 16
#: Dead letters kept per shard; beyond, the oldest is dropped (and logged as an error).
MAX_DEAD_LETTERS: Final = 500
PUT: Final = "put"
REMOVE: Final = "remove"
FORGET_USER: Final = "forget_user"


class DeadLetters(BaseModel):
    """A dead-letter entity's state: orchestration requests in arrival order."""

    model_config = ConfigDict(extra="forbid")

    requests: list[OrchestrationRequest] = Field(default_factory=list)
    dropped: int = Field(default=0, ge=0, description="requests dropped because it was full")


def dead_letter_shard(user_id: str) -> str:
    """The dead-letter entity key of a user."""
    digest = hashlib.sha256(user_id.encode()).digest()
    return str(int.from_bytes(digest[:4], "big") % DEAD_LETTER_SHARDS)


def dead_letter_entity(shard: str) -> Any:
    """The dead-letter entity of a shard."""
    from azure.durable_functions import EntityId

    return EntityId(DEAD_LETTER_ENTITY, shard)


def apply(state: DeadLetters, operation: str | None, payload: Any) -> DeadLetters:
    """``put`` appends a request (once per instance id), ``remove`` drops the named instance
    ids, ``forget_user`` drops every request of a user."""
    state = state.model_copy(deep=True)
    if operation == PUT:
        request = OrchestrationRequest.model_validate(payload)
        if all(r.instance_id != request.instance_id for r in state.requests):
            state.requests.append(request)
        while len(state.requests) > MAX_DEAD_LETTERS:
            lost = state.requests.pop(0)
            state.dropped += 1
            logger.error("dead-letter shard full: dropped %s", lost.instance_id)
        return state
    if operation == REMOVE:
        gone = set(payload or [])
        state.requests = [r for r in state.requests if r.instance_id not in gone]
        return state
    if operation == FORGET_USER:
        state.requests = [r for r in state.requests if r.input.user_id != payload]
        return state
    raise ValueError(f"unknown operation {operation!r}; expected {PUT}, {REMOVE} or {FORGET_USER}")


def handle(context: EntityContext) -> None:
    """The dead-letter entity function body."""
    state = DeadLetters.model_validate(context.get_state(dict, expected_type=dict) or {})
    state = apply(state, context.operation_name, context.get_input())
    context.set_state(state.model_dump(mode="json"))
    context.set_result(len(state.requests))


class SignalClient(Protocol):
    """What dead-lettering uses of ``DurableOrchestrationClient``."""

    async def signal_entity(
        self, entityId: Any, operation_name: str, operation_input: Any | None = None
    ) -> Any: ...


async def dead_letter(client: SignalClient, requests: Sequence[OrchestrationRequest]) -> None:
    """Write requests the trigger could not start to their users' dead-letter shards."""
    for request in requests:
        entity = dead_letter_entity(dead_letter_shard(request.input.user_id))
        await client.signal_entity(entity, PUT, request.model_dump(mode="json"))
        logger.error("batch %s dead-lettered after the last trigger retry", request.instance_id)
