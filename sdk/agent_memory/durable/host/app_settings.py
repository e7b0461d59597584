"""App settings the Function app reads, and the one decision made from them at indexing time."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

from agent_memory.core.due import THRESHOLD_ENV
from agent_memory.durable.names import (
    COSMOS_CONNECTION,
    CREATE_LEASES_SETTING,
    DATABASE_SETTING,
)
from agent_memory.settings import ENV_NAMES

#: The identity-based connection of the trigger (``COSMOS_DB__accountEndpoint`` etc.).
IDENTITY_CONNECTION: Final = tuple(
    f"{COSMOS_CONNECTION}__{part}" for part in ("accountEndpoint", "credential", "clientId")
)
#: Settings the Functions host itself needs.
HOST_SETTINGS: Final = ("AzureWebJobsStorage", "FUNCTIONS_WORKER_RUNTIME")


def function_app_settings() -> tuple[str, ...]:
    """Every app setting ``function_app.py`` and the SDK it calls read."""
    return (
        *HOST_SETTINGS,
        *IDENTITY_CONNECTION,
        DATABASE_SETTING,
        CREATE_LEASES_SETTING,
        *ENV_NAMES.values(),
        *THRESHOLD_ENV.values(),
    )


def create_lease_container(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the trigger creates the ``leases`` container when it is missing.

    ``COSMOS_DB_CREATE_LEASE_CONTAINER`` decides when set. Otherwise: yes with a key-based
    connection string (``COSMOS_DB``, e.g. the emulator); no with an identity-based connection,
    because Cosmos DB's data-plane RBAC cannot create containers and the trigger would then
    fail to start: deployments create ``leases`` with the other containers.
    """
    env = os.environ if environ is None else environ
    explicit = env.get(CREATE_LEASES_SETTING, "").strip().lower()
    if explicit:
        return explicit in ("1", "true", "yes")
    return bool(env.get(COSMOS_CONNECTION, "").strip())
