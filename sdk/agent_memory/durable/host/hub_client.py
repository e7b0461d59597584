"""What the app uses of ``azure.durable_functions.DurableOrchestrationClient``, as a protocol.

The trigger needs only :class:`~agent_memory.durable.host.trigger.StarterClient`; the sweeper and
``forget`` use the task-hub management calls below as well.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from agent_memory.durable.host.trigger import StarterClient


class TaskHubClient(StarterClient, Protocol):
    """Instance queries, termination, purges and entity state, on top of starting."""

    async def get_status(
        self,
        instance_id: str,
        show_history: bool = False,
        show_history_output: bool = False,
        show_input: bool = False,
    ) -> Any: ...

    async def get_status_by(
        self,
        created_time_from: datetime | None = None,
        created_time_to: datetime | None = None,
        runtime_status: list[Any] | None = None,
    ) -> list[Any]: ...

    async def terminate(self, instance_id: str, reason: str) -> None: ...

    async def purge_instance_history(self, instance_id: str) -> Any: ...

    async def purge_instance_history_by(
        self,
        created_time_from: datetime | None = None,
        created_time_to: datetime | None = None,
        runtime_status: list[Any] | None = None,
    ) -> Any: ...

    async def read_entity_state(self, entityId: Any) -> Any: ...
