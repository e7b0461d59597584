"""The memory pipeline as an Azure Durable Functions app (Python v2 model): bindings only.

Change feed of ``memories_turns`` -> one orchestration per user and batch -> the user's counter
entity says what is due -> activities run the SDK's pipeline steps. All logic lives in
``agent_memory.durable``; see Docs/durable.md.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any, Dict  # noqa: UP035 (see JsonObject)

import azure.durable_functions as df
import azure.functions as func

from agent_memory.durable import deadletters, entity, orchestration
from agent_memory.durable.host import activities, forget, sweeper, trigger
from agent_memory.durable.host.app_settings import create_lease_container
from agent_memory.durable.names import (
    COSMOS_CONNECTION,
    COUNTER_ENTITY,
    DATABASE_SETTING,
    DEAD_LETTER_ENTITY,
    FORGET_FUNCTION,
    LEASE_CONTAINER,
    MONITORED_CONTAINER,
    ORCHESTRATOR,
    SWEEPER_FUNCTION,
    TRIGGER_FUNCTION,
)

#: Activity payloads. The Functions worker rejects PEP 585 generics (``dict[str, Any]``) as
#: binding annotations on Python 3.11 and then loads no function at all: ``typing.Dict`` passes.
JsonObject = Dict[str, Any]  # noqa: UP006

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.function_name(TRIGGER_FUNCTION)
@app.retry(
    strategy="exponential_backoff",
    max_retry_count="5",
    minimum_interval="00:00:05",
    maximum_interval="00:05:00",
)
@app.cosmos_db_trigger(
    arg_name="documents",
    connection=COSMOS_CONNECTION,
    database_name=f"%{DATABASE_SETTING}%",
    container_name=MONITORED_CONTAINER,
    lease_container_name=LEASE_CONTAINER,
    create_lease_container_if_not_exists=create_lease_container(),
)
@app.durable_client_input(client_name="client")
async def turns_changed(
    documents: func.DocumentList, client: df.DurableOrchestrationClient, context: func.Context
) -> None:
    """New turns: start one orchestration per user (skipped unless the owner is durable).

    On the retry policy's last attempt, what still cannot be started is dead-lettered.
    """
    retry = context.retry_context
    last = retry is not None and retry.retry_count >= retry.max_retry_count
    await trigger.on_change_feed(client, documents, last_attempt=last)


@app.function_name(ORCHESTRATOR)
@app.orchestration_trigger(context_name="context")
def memory_pipeline(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """Ask the counter entity what is due, run it with retries, report back."""
    return (yield from orchestration.pipeline(context))


@app.function_name(COUNTER_ENTITY)
@app.entity_trigger(context_name="context")
def memory_counter(context: df.DurableEntityContext) -> None:
    """The per-user counter: ``record``, ``complete``, ``get``."""
    entity.handle(context)


@app.function_name(DEAD_LETTER_ENTITY)
@app.entity_trigger(context_name="context")
def memory_deadletters(context: df.DurableEntityContext) -> None:
    """Batches the trigger could not start after its last retry: ``put``, ``remove``."""
    deadletters.handle(context)


@app.function_name(SWEEPER_FUNCTION)
@app.timer_trigger(arg_name="timer", schedule=sweeper.SWEEP_SCHEDULE, run_on_startup=False)
@app.durable_client_input(client_name="client")
async def memory_sweeper(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    """Every five minutes: replay dead letters, re-run dead instances, purge old history."""
    await sweeper.sweep(client, datetime.now(UTC))


@app.function_name(FORGET_FUNCTION)
@app.route(route="users/{user_id}/forget", methods=["POST"])
@app.durable_client_input(client_name="client")
async def forget_user(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """``POST /api/users/{user_id}/forget``: the user's task-hub state, then its memory."""
    return await forget.forget_user_http(client, req.route_params.get("user_id", ""))


@app.function_name("extract_memories")
@app.activity_trigger(input_name="request")
async def extract_memories(request: JsonObject) -> JsonObject:
    """Activity: extract memories from a thread's pending turns."""
    return await activities.extract_memories(request)


@app.function_name("reconcile")
@app.activity_trigger(input_name="request")
async def reconcile(request: JsonObject) -> JsonObject:
    """Activity: supersede duplicates and contradictions among recent facts."""
    return await activities.reconcile(request)


@app.function_name("summarize_thread")
@app.activity_trigger(input_name="request")
async def summarize_thread(request: JsonObject) -> JsonObject:
    """Activity: fold a thread's new turns into its summary."""
    return await activities.summarize_thread(request)


@app.function_name("summarize_user")
@app.activity_trigger(input_name="request")
async def summarize_user(request: JsonObject) -> JsonObject:
    """Activity: rewrite the user profile."""
    return await activities.summarize_user(request)
