"""Container definitions: ``containers.json`` beside this module, the one file the SDK and
Bicep both read.

Deployments override four values of it: the vector dimensions and index type (in every
container that has a vector policy) and the default TTL of the turns and of the counters
container. A counters TTL needs a turns TTL at most as long: a thread's watermarks and counters
must not expire while its turns remain (its turns would be extracted again).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal

from azure.cosmos import PartitionKey

from agent_memory.core.errors import ConfigurationError
from agent_memory.core.models import COUNTERS_CONTAINER, TURNS_CONTAINER

VectorIndexType = Literal["quantizedFlat", "diskANN"]

#: Where the definitions live: package data beside this module, so an installed wheel (the
#: Function app's) has them too; ``infra/modules/cosmos.bicep`` loads the same file.
DEFINITIONS_FILE: Final = Path(__file__).resolve().with_name("containers.json")


@lru_cache(maxsize=4)
def load_file(path: Path = DEFINITIONS_FILE) -> dict[str, Any]:
    """The parsed definitions file (cached: use the copies of :func:`container_definitions`)."""
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the Cosmos DB container definitions {path}: {exc}"
        ) from exc
    return data


def default_parameters(path: Path = DEFINITIONS_FILE) -> dict[str, Any]:
    """The defaults the file states for the overridable values."""
    return dict(load_file(path)["parameters"])


def container_definitions(
    *,
    dimensions: int,
    vector_index: VectorIndexType,
    turns_ttl: int | None,
    counters_ttl: int | None = None,
    path: Path = DEFINITIONS_FILE,
) -> list[dict[str, Any]]:
    """Every container's resource body with the deployment's values applied.

    ``ConfigurationError`` when ``counters_ttl`` is set without a ``turns_ttl`` at most as long.
    """
    if counters_ttl is not None and (turns_ttl is None or turns_ttl > counters_ttl):
        raise ConfigurationError(
            f"a counters TTL ({counters_ttl} s) needs a turns TTL at most as long (got "
            f"{turns_ttl}): a thread's watermarks must outlive its turns"
        )
    ttls = {TURNS_CONTAINER: turns_ttl, COUNTERS_CONTAINER: counters_ttl}
    containers: list[dict[str, Any]] = copy.deepcopy(load_file(path)["containers"])
    for container in containers:
        policy = container.get("vectorEmbeddingPolicy")
        if policy:
            for embedding in policy["vectorEmbeddings"]:
                embedding["dimensions"] = dimensions
            for index in container["indexingPolicy"].get("vectorIndexes", []):
                index["type"] = vector_index
        if container["id"] in ttls:
            container.pop("defaultTtl", None)
            if ttls[container["id"]] is not None:
                container["defaultTtl"] = ttls[container["id"]]
    return containers


def create_arguments(definition: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of ``create_container_if_not_exists`` for one definition."""
    key = definition["partitionKey"]
    return {
        "id": definition["id"],
        "partition_key": PartitionKey(
            path=list(key["paths"]), kind=key["kind"], version=key.get("version", 2)
        ),
        "indexing_policy": definition.get("indexingPolicy"),
        "default_ttl": definition.get("defaultTtl"),
        "unique_key_policy": definition.get("uniqueKeyPolicy"),
        "vector_embedding_policy": definition.get("vectorEmbeddingPolicy"),
        "full_text_policy": definition.get("fullTextPolicy"),
    }


def check_existing(definition: Mapping[str, Any], properties: Mapping[str, Any]) -> None:
    """Refuse a container whose partition key or vector dimensions differ from ``definition``.

    Other settings (indexes, TTL) can be changed in place by the infrastructure; these two
    cannot, and a mismatch would fail every write or search.
    """
    name = definition["id"]
    wanted = list(definition["partitionKey"]["paths"])
    found = list((properties.get("partitionKey") or {}).get("paths") or [])
    if found != wanted:
        raise ConfigurationError(
            f"Cosmos DB container {name!r} is partitioned by {found}, expected {wanted}; "
            "use another COSMOS_DB_DATABASE or recreate the container"
        )
    expected = _dimensions(definition)
    existing = _dimensions(properties)
    if expected and existing and expected != existing:
        raise ConfigurationError(
            f"Cosmos DB container {name!r} indexes {existing[0]}-dimension vectors, but "
            f"EMBEDDING_DIMENSIONS is {expected[0]}; use the same dimensions or another database"
        )


def _dimensions(body: Mapping[str, Any]) -> list[int]:
    policy = body.get("vectorEmbeddingPolicy") or {}
    return [int(e["dimensions"]) for e in policy.get("vectorEmbeddings", [])]
