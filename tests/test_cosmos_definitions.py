"""Cosmos DB containers: ``stores/cosmos/containers.json`` is what ``connect()`` creates."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from azure.cosmos import CosmosClient, PartitionKey

from agent_memory import ConfigurationError, Settings, SqliteStore
from agent_memory.core.models import CONTAINERS, MEMORIES_CONTAINER, TURNS_CONTAINER
from agent_memory.stores._async.factory import build_store as build_async_store
from agent_memory.stores._sync.factory import build_store
from agent_memory.stores.cosmos import definitions
from agent_memory.stores.cosmos._async.store import AsyncCosmosStore
from agent_memory.stores.cosmos._sync.store import CosmosStore
from agent_memory.stores.sqlite import AsyncSqliteStore
from tests.support.cosmos_server import CosmosServer, RequestLog, unique_database

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

FILE = json.loads(definitions.DEFINITIONS_FILE.read_text(encoding="utf-8"))


def defaults() -> list[dict[str, Any]]:
    params = FILE["parameters"]
    return definitions.container_definitions(
        dimensions=params["embeddingDimensions"],
        vector_index=params["vectorIndexType"],
        turns_ttl=params["turnsTtlSeconds"],
    )


def by_id(containers: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in containers}


# -- the file --------------------------------------------------------------------------------


def test_the_file_defines_the_four_containers_with_hierarchical_keys() -> None:
    assert FILE["database"] == Settings().cosmos_database == "ai_memory"
    assert [c["id"] for c in FILE["containers"]] == list(CONTAINERS)
    for container in FILE["containers"]:
        assert container["partitionKey"] == {
            "paths": ["/user_id", "/thread_id"],
            "kind": "MultiHash",
            "version": 2,
        }


def test_searchable_containers_have_vector_and_full_text_policies() -> None:
    containers = by_id(FILE["containers"])
    for name in ("memories_turns", "memories", "memories_summaries"):
        c = containers[name]
        (embedding,) = c["vectorEmbeddingPolicy"]["vectorEmbeddings"]
        assert embedding == {
            "path": "/embedding",
            "dataType": "float32",
            "distanceFunction": "cosine",
            "dimensions": FILE["parameters"]["embeddingDimensions"],
        }
        policy = c["indexingPolicy"]
        assert policy["vectorIndexes"] == [{"path": "/embedding", "type": "quantizedFlat"}]
        assert policy["fullTextIndexes"] == [{"path": "/content"}]
        assert c["fullTextPolicy"]["fullTextPaths"] == [{"path": "/content", "language": "en-US"}]
        assert {"path": "/embedding/*"} in policy["excludedPaths"]
    assert "vectorEmbeddingPolicy" not in containers["memories_counters"]


def test_ttl_is_on_for_memories_and_left_to_the_deployment_for_turns() -> None:
    containers = by_id(FILE["containers"])
    assert containers[MEMORIES_CONTAINER]["defaultTtl"] == -1
    assert "defaultTtl" not in containers[TURNS_CONTAINER]
    assert FILE["parameters"]["turnsTtlSeconds"] is None
    assert containers[TURNS_CONTAINER]["uniqueKeyPolicy"] == {"uniqueKeys": [{"paths": ["/seq"]}]}


def test_the_memory_listing_order_has_its_composite_index() -> None:
    memories = by_id(FILE["containers"])[MEMORIES_CONTAINER]
    assert memories["indexingPolicy"]["compositeIndexes"] == [
        [
            {"path": "/created_at", "order": "descending"},
            {"path": "/id", "order": "descending"},
        ]
    ]


def test_defaults_reproduce_the_file_and_settings_change_only_their_values() -> None:
    assert defaults() == FILE["containers"]
    custom = by_id(
        definitions.container_definitions(dimensions=256, vector_index="diskANN", turns_ttl=3600)
    )
    for original in FILE["containers"]:
        changed = custom[original["id"]]
        if "vectorEmbeddingPolicy" in original:
            assert changed["vectorEmbeddingPolicy"]["vectorEmbeddings"][0]["dimensions"] == 256
            assert changed["indexingPolicy"]["vectorIndexes"][0]["type"] == "diskANN"
            changed = json.loads(
                json.dumps(changed)
                .replace('"dimensions": 256', '"dimensions": 1536')
                .replace('"diskANN"', '"quantizedFlat"')
            )
        if original["id"] == TURNS_CONTAINER:
            assert changed.pop("defaultTtl") == 3600
        assert changed == original


# -- what connect() sends -------------------------------------------------------------------


def test_connect_creates_exactly_the_file_containers(cosmos_server: CosmosServer) -> None:
    log = RequestLog()
    database = unique_database()
    with CosmosStore(
        cosmos_server.endpoint, key=cosmos_server.key, database=database, raw_request_hook=log
    ) as store:
        store.connect()
    assert log.created_containers() == FILE["containers"]
    assert [r.body for r in log.requests if r.method == "POST" and r.path == "/dbs"] == [
        {"id": database}
    ]


def test_async_connect_creates_the_same_containers_once(cosmos_server: CosmosServer) -> None:
    log = RequestLog()
    database = unique_database()

    async def run() -> None:
        store = AsyncCosmosStore(
            cosmos_server.endpoint,
            key=cosmos_server.key,
            database=database,
            dimensions=256,
            vector_index="diskANN",
            turns_ttl=600,
            raw_request_hook=log,
        )
        await asyncio.gather(store.connect(), store.connect(), store.connect())
        await store.close()
        again = AsyncCosmosStore(
            cosmos_server.endpoint, key=cosmos_server.key, database=database, dimensions=256
        )
        await again.connect()
        await again.close()

    asyncio.run(run())
    assert log.created_containers() == definitions.container_definitions(
        dimensions=256, vector_index="diskANN", turns_ttl=600
    )


def test_an_existing_container_with_another_partition_key_is_refused(
    cosmos_server: CosmosServer,
) -> None:
    database = unique_database()
    with CosmosClient(cosmos_server.endpoint, cosmos_server.key) as client:
        db = client.create_database(database)
        db.create_container(TURNS_CONTAINER, PartitionKey(path="/user_id"))
    store = CosmosStore(cosmos_server.endpoint, key=cosmos_server.key, database=database)
    with pytest.raises(ConfigurationError, match=r"partitioned by \['/user_id'\]"):
        store.connect()
    store.close()


def test_an_existing_container_indexing_other_dimensions_is_refused() -> None:
    wanted = by_id(defaults())[MEMORIES_CONTAINER]
    existing = json.loads(json.dumps(wanted).replace('"dimensions": 1536', '"dimensions": 3072'))
    with pytest.raises(ConfigurationError, match="3072-dimension vectors"):
        definitions.check_existing(wanted, existing)
    definitions.check_existing(wanted, wanted)


# -- settings and the factory ---------------------------------------------------------------

ENV = {"COSMOS_DB_ENDPOINT": "https://example.documents.azure.com:443/", "COSMOS_DB_KEY": "a2V5"}


def test_settings_read_the_cosmos_variables() -> None:
    settings = Settings.from_env(
        ENV
        | {
            "COSMOS_DB_DATABASE": "memory_db",
            "COSMOS_DB_VERIFY_TLS": "false",
            "COSMOS_DB_VECTOR_INDEX_TYPE": "diskANN",
            "COSMOS_DB_TURNS_TTL_SECONDS": "2592000",
            "EMBEDDING_DIMENSIONS": "3072",
        }
    )
    assert settings.cosmos_endpoint == ENV["COSMOS_DB_ENDPOINT"]
    assert (settings.cosmos_database, settings.cosmos_verify_tls) == ("memory_db", False)
    assert (settings.cosmos_vector_index, settings.cosmos_turns_ttl) == ("diskANN", 2592000)
    plain = Settings.from_env({})
    assert (plain.cosmos_endpoint, plain.cosmos_database, plain.cosmos_verify_tls) == (
        None,
        "ai_memory",
        True,
    )
    assert (plain.cosmos_vector_index, plain.cosmos_turns_ttl) == ("quantizedFlat", None)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("COSMOS_DB_VECTOR_INDEX_TYPE", "hnsw"),
        ("COSMOS_DB_TURNS_TTL_SECONDS", "-5"),
        ("COSMOS_DB_VERIFY_TLS", "maybe"),
        ("COSMOS_DB_DATABASE", "a/b"),
    ],
)
def test_bad_cosmos_settings_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        Settings.from_env(ENV | {variable: value})


def test_the_factory_picks_cosmos_when_an_endpoint_is_set(tmp_path: Any) -> None:
    settings = Settings.from_env(ENV | {"EMBEDDING_DIMENSIONS": "256"})
    store = build_store(settings)
    assert isinstance(store, CosmosStore)
    assert (store.endpoint, store.database_name, store.dimensions) == (
        ENV["COSMOS_DB_ENDPOINT"],
        "ai_memory",
        256,
    )
    assert isinstance(build_async_store(settings), AsyncCosmosStore)
    explicit = build_store(settings, tmp_path / "local.db")
    assert isinstance(explicit, SqliteStore)
    explicit.close()
    local = build_async_store(Settings(store_path=tmp_path / "other.db"))
    assert isinstance(local, AsyncSqliteStore)
    asyncio.run(local.close())


def test_the_stores_are_importable_from_the_cosmos_package() -> None:
    from agent_memory.stores import cosmos

    assert (cosmos.CosmosStore, cosmos.AsyncCosmosStore) == (CosmosStore, AsyncCosmosStore)
    with pytest.raises(AttributeError):
        cosmos.Missing  # noqa: B018


def test_the_definitions_ship_inside_the_package() -> None:
    """The Function app installs a wheel: the JSON must be package data, not a repo file."""
    import tomllib
    from importlib.resources import files
    from pathlib import Path

    assert files("agent_memory.stores.cosmos").joinpath("containers.json").is_file()
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    data = pyproject["tool"]["setuptools"]["package-data"]["agent_memory"]
    assert "stores/cosmos/containers.json" in data


def test_the_cosmos_requirement_brings_an_async_transport_and_a_floor_that_routes_full_keys() -> (
    None
):
    """``aio`` brings aiohttp (a plain install opens ``AsyncCosmosStore``); 4.16.3 is the first
    release with ``full_text_score_scope`` that sends full-key queries straight to the
    partition (4.16.0–4.16.2 scan the key's feed range). ``.ci/run`` tests this floor."""
    import tomllib
    from pathlib import Path

    from packaging.requirements import Requirement
    from packaging.version import Version

    root = Path(__file__).resolve().parents[1]
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    (cosmos,) = [
        Requirement(d) for d in data["project"]["dependencies"] if d.startswith("azure-cosmos")
    ]
    assert cosmos.extras == {"aio"}
    assert Version("4.16.3") in cosmos.specifier and Version("4.16.2") not in cosmos.specifier
    assert Version("5.0") not in cosmos.specifier
    assert "azure-cosmos[aio]==$floor" in (root / ".ci" / "run").read_text(encoding="utf-8")
