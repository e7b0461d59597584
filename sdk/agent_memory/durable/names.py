"""Names shared by ``function_app.py``, the orchestrator and the tests."""

from __future__ import annotations

from typing import Final

from agent_memory.core.models import TURNS_CONTAINER
from agent_memory.core.steps import (
    EXTRACT_STEP,
    RECONCILE_STEP,
    THREAD_SUMMARY_STEP,
    USER_SUMMARY_STEP,
)

#: Function names as the Functions host indexes them.
TRIGGER_FUNCTION: Final = "turns_changed"
ORCHESTRATOR: Final = "memory_pipeline"
COUNTER_ENTITY: Final = "memory_counter"
DEAD_LETTER_ENTITY: Final = "memory_deadletters"
SWEEPER_FUNCTION: Final = "memory_sweeper"
FORGET_FUNCTION: Final = "forget_user"
#: Activities are named after the steps they run.
ACTIVITIES: Final = (EXTRACT_STEP, RECONCILE_STEP, THREAD_SUMMARY_STEP, USER_SUMMARY_STEP)

#: Change-feed trigger: the monitored container, its lease container and connection prefix.
MONITORED_CONTAINER: Final = TURNS_CONTAINER
LEASE_CONTAINER: Final = "leases"
COSMOS_CONNECTION: Final = "COSMOS_DB"
#: The app setting naming the Cosmos DB database, as a binding expression.
DATABASE_SETTING: Final = "COSMOS_DB_DATABASE_NAME"
#: Set to ``true``/``false`` to decide whether the trigger creates the lease container.
CREATE_LEASES_SETTING: Final = "COSMOS_DB_CREATE_LEASE_CONTAINER"

#: Counter entity operations.
RECORD: Final = "record"
COMPLETE: Final = "complete"
GET: Final = "get"
RELEASE: Final = "release"
FORGET: Final = "forget"
