"""azd ``postprovision`` hook: wait until your data-plane role assignments take effect.

``azd provision`` grants you (``AZURE_PRINCIPAL_ID``) Cosmos DB Built-in Data Contributor and
Cognitive Services OpenAI User, but Azure applies new role assignments minutes later; until
then the SDK on your machine gets 403. This hook signs in as the SDK does
(``DefaultAzureCredential``) and polls both accounts with free reads — a point read in the Cosmos DB
database (``COSMOS_DB_ENDPOINT``, ``COSMOS_DB_DATABASE``) and the model list of the AI Services
account (``AI_FOUNDRY_ENDPOINT``) — every ``WAIT_FOR_ROLES_INTERVAL_SECONDS`` (15) until both
answer, for at most ``WAIT_FOR_ROLES_TIMEOUT_SECONDS`` (600). It exits 1 when time runs out
(run ``azd hooks run postprovision`` to wait again) and 0 without waiting when no principal
was granted roles or the SDK is not installed (``pip install -e .``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

#: A check: True once the role works, False while it does not yet (403, 401, unreachable).
Check = Callable[[], bool]


def wait_for(
    checks: Mapping[str, Check],
    *,
    timeout: float,
    interval: float,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> list[str]:
    """Poll every pending check until all pass or ``timeout`` seconds passed; the ones left."""
    pending = dict(checks)
    deadline = monotonic() + timeout
    while True:
        for name in list(pending):
            if pending[name]():
                print(f"{name}: your role assignment works")
                del pending[name]
        remaining = deadline - monotonic()
        if not pending or remaining <= 0:
            return sorted(pending)
        print(f"waiting for role assignments to take effect: {', '.join(sorted(pending))}")
        sleep(min(interval, remaining))


def cosmos_check(endpoint: str, database: str, credential: Any, **options: Any) -> Check:
    """A point read of the store's metadata item (found or not found: the role works)."""
    from azure.core.exceptions import AzureError
    from azure.cosmos import CosmosClient
    from azure.cosmos.exceptions import CosmosResourceNotFoundError

    from agent_memory.core.models import COUNTERS_CONTAINER
    from agent_memory.stores.cosmos.documents import META_ID, STORE_PARTITION

    def check() -> bool:
        try:
            with CosmosClient(endpoint, credential, **options) as client:
                container = client.get_database_client(database).get_container_client(
                    COUNTERS_CONTAINER
                )
                container.read_item(META_ID, partition_key=STORE_PARTITION)
        except CosmosResourceNotFoundError:
            return True
        except AzureError as exc:
            print(f"Cosmos DB: not yet ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})")
            return False
        return True

    return check


def models_check(endpoint: str, credential: Any, api_version: str) -> Check:
    """The AI Services account's model list through its Azure OpenAI endpoint."""
    import openai
    from azure.identity import get_bearer_token_provider

    token = get_bearer_token_provider(credential, "https://cognitiveservices.azure.com/.default")
    client = openai.AzureOpenAI(
        azure_endpoint=endpoint, azure_ad_token_provider=token, api_version=api_version
    )

    def check() -> bool:
        try:
            client.models.list()
        except (openai.APIError, ValueError) as exc:
            print(f"AI Services: not yet ({type(exc).__name__}: {str(exc)[:160]})")
            return False
        return True

    return check


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    if not env.get("AZURE_PRINCIPAL_ID", "").strip():
        print("no AZURE_PRINCIPAL_ID: no role assignments to wait for")
        return 0
    try:
        from azure.identity import DefaultAzureCredential

        from agent_memory.settings import Settings
    except ImportError:
        print("agent-memory is not installed (pip install -e .): not waiting for role assignments")
        return 0
    settings = Settings.from_env(env)
    credential = DefaultAzureCredential()
    checks: dict[str, Check] = {}
    if settings.cosmos_endpoint:
        checks["Cosmos DB"] = cosmos_check(
            settings.cosmos_endpoint, settings.cosmos_database, credential
        )
    if settings.ai_foundry_endpoint:
        checks["AI Services"] = models_check(
            settings.ai_foundry_endpoint, credential, settings.ai_foundry_api_version
        )
    left = wait_for(
        checks,
        timeout=float(env.get("WAIT_FOR_ROLES_TIMEOUT_SECONDS") or 600),
        interval=float(env.get("WAIT_FOR_ROLES_INTERVAL_SECONDS") or 15),
    )
    if left:
        print(
            f"role assignments still not effective for {', '.join(left)}; run "
            "`azd hooks run postprovision` to wait again",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
