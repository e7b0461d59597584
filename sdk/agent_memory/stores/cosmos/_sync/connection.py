# Generated from agent_memory/stores/cosmos/_async/connection.py by scripts/unasync.py. Do not edit:
# change the async source and run `python scripts/unasync.py`.
"""The Cosmos DB store's base: client, database and containers, item helpers, request charges,
the embedding model and forget epochs (sync, generated)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from azure.cosmos import ContainerProxy, CosmosClient
from azure.cosmos.exceptions import CosmosHttpResponseError

from agent_memory.core import clock as polling
from agent_memory.core.errors import ConfigurationError, ForgottenError, StoreError
from agent_memory.core.models import COUNTERS_CONTAINER, utcnow
from agent_memory.core.validation import check_identifier
from agent_memory.stores.cosmos import definitions, queries
from agent_memory.stores.cosmos import documents as docs
from agent_memory.stores.cosmos.charges import OperationCharge, RequestCharges
from agent_memory.stores.cosmos.errors import (
    CONFLICT,
    NOT_FOUND,
    PRECONDITION_FAILED,
    guarded,
    is_status,
)
from agent_memory.stores.cosmos.queries import CrossPartition

Clock = Callable[[], datetime]
PartitionValue = list[str]


class CosmosConnection:
    """What every part of :class:`CosmosStore` shares: the client, the database and its
    containers (opened by :meth:`connect`), item reads and writes, request charges, the
    embedding model and the user's forget epoch."""

    def __init__(
        self,
        endpoint: str,
        *,
        key: str | None = None,
        credential: Any = None,
        client_id: str | None = None,
        database: str = "ai_memory",
        dimensions: int = 1536,
        vector_index: definitions.VectorIndexType = "quantizedFlat",
        turns_ttl: int | None = None,
        counters_ttl: int | None = None,
        verify_tls: bool = True,
        throttle_retries: int = 9,
        throttle_wait_seconds: int = 30,
        clock: Clock = utcnow,
        **client_options: Any,
    ) -> None:
        self.endpoint = endpoint
        self.database_name = database
        self.dimensions = dimensions
        self.definitions = definitions.container_definitions(
            dimensions=dimensions,
            vector_index=vector_index,
            turns_ttl=turns_ttl,
            counters_ttl=counters_ttl,
        )
        self.charges = RequestCharges()
        self._key = key
        self._credential = credential
        self._client_id = client_id
        self._owned_credential: Any = None
        self._options: dict[str, Any] = {
            "retry_throttle_total": throttle_retries,
            "retry_throttle_backoff_max": throttle_wait_seconds,
            **client_options,
        }
        if not verify_tls:
            self._options["connection_verify"] = False
        self._clock = clock
        self._pause = polling.Clock()
        self._seq = docs.SeqClock()
        self._client: CosmosClient | None = None
        self._containers: dict[str, ContainerProxy] = {}
        self._lock = threading.Lock()
        self._closed = False

    # -- connection ----------------------------------------------------------------------

    def connect(self) -> None:
        """Open the client; create the database and any missing container."""
        if self._closed:
            raise StoreError("the store is closed")
        if self._containers:
            return
        with self._lock:
            if self._containers:
                return
            with guarded(self.charges, "connect", None):
                if self._client is None:
                    client = self._open_client()
                    client.__enter__()  # type: ignore[no-untyped-call, unused-ignore]
                    self._client = client
                database = self._client.create_database_if_not_exists(self.database_name)
                opened: dict[str, ContainerProxy] = {}
                for definition in self.definitions:
                    container, properties = database.create_container_if_not_exists(
                        **definitions.create_arguments(definition), return_properties=True
                    )
                    definitions.check_existing(definition, properties)
                    opened[definition["id"]] = container
            self._containers = opened

    def _open_client(self) -> CosmosClient:
        credential: Any = self._key or self._credential
        if credential is None:
            from azure.identity import DefaultAzureCredential

            self._owned_credential = DefaultAzureCredential(
                managed_identity_client_id=self._client_id
            )
            credential = self._owned_credential
        return CosmosClient(
            self.endpoint,
            credential,
            raw_response_hook=self.charges.on_response,
            **self._options,
        )

    def _container(self, name: str) -> ContainerProxy:
        self.connect()
        return self._containers[name]

    def close(self) -> None:
        """Close the client (and the credential it created)."""
        self._closed = True
        client, self._client = self._client, None
        self._containers = {}
        if client is not None:
            client.close()
        if self._owned_credential is not None:
            self._owned_credential.close()
            self._owned_credential = None

    def request_charges(self) -> dict[str, OperationCharge]:
        """Requests and request units per operation since this store was created."""
        return self.charges.totals()

    # -- item helpers --------------------------------------------------------------------

    def _query(
        self,
        container: ContainerProxy,
        query: queries.CosmosQuery,
        partition_key: PartitionValue | None,
        **options: Any,
    ) -> list[Any]:
        """All rows of ``query`` in ``partition_key`` (a full key or a prefix); with None, the
        query names no key (it pins one in ``WHERE``) and takes the SDK's query-plan path."""
        if partition_key is not None:
            options["partition_key"] = partition_key
        else:
            options.update(CrossPartition)
        items = container.query_items(query.text, parameters=query.parameters, **options)
        return [item for item in items]

    def _read(
        self, container: ContainerProxy, item_id: str, partition_key: PartitionValue
    ) -> dict[str, Any] | None:
        try:
            return dict(container.read_item(item_id, partition_key=partition_key))
        except CosmosHttpResponseError as exc:
            if is_status(exc, NOT_FOUND):
                return None
            raise

    def _create(self, container: ContainerProxy, body: dict[str, Any]) -> bool:
        try:
            container.create_item(body)
        except CosmosHttpResponseError as exc:
            if is_status(exc, CONFLICT):
                return False
            raise
        return True

    def _patch(
        self,
        container: ContainerProxy,
        item_id: str,
        partition_key: PartitionValue,
        operations: list[dict[str, Any]],
        condition: str | None = None,
    ) -> dict[str, Any] | None:
        """The patched item, or None when it is missing or ``condition`` is false."""
        try:
            patched = container.patch_item(
                item_id,
                partition_key=partition_key,
                patch_operations=operations,
                filter_predicate=condition,
            )
        except CosmosHttpResponseError as exc:
            if is_status(exc, NOT_FOUND, PRECONDITION_FAILED):
                return None
            raise
        return dict(patched)

    def _now(self) -> datetime:
        return self._clock()

    # -- embedding model -----------------------------------------------------------------

    def ensure_embedding_model(self, model: str, dimensions: int) -> None:
        """Record the embedding model on first use; raise ``ConfigurationError`` on a mismatch."""
        if dimensions != self.dimensions:
            raise ConfigurationError(
                f"the embedding model {model!r} produces {dimensions}-dimension vectors, but the "
                f"Cosmos DB containers index {self.dimensions}: set EMBEDDING_DIMENSIONS="
                f"{dimensions} before the containers are created, or use an embedding model of "
                f"{self.dimensions} dimensions"
            )
        with guarded(self.charges, "ensure_embedding_model", None):
            container = self._container(COUNTERS_CONTAINER)
            body = docs.meta_doc(model, dimensions)
            if self._create(container, body):
                return
            found = self._read(container, docs.META_ID, docs.STORE_PARTITION) or body
        if (found.get("model"), found.get("dimensions")) != (model, dimensions):
            raise ConfigurationError(
                f"Cosmos DB database {self.database_name!r} holds vectors from embedding model "
                f"{found.get('model')!r} ({found.get('dimensions')} dims), but this client embeds "
                f"with {model!r} ({dimensions} dims). Use the same embedder for this database, "
                "or point COSMOS_DB_DATABASE at a new one."
            )

    # -- forget epochs -------------------------------------------------------------------

    def user_epoch(self, user_id: str) -> str:
        """A token for the user's data as it is now; ``""`` when the user has none.

        It lives in an item of the user's counters partition, created with the user's first
        turn or memory; ``forget`` deletes it with the user (or replaces it when one thread is
        forgotten), so writes given an older token raise :class:`ForgottenError`. Cosmos DB
        has no transaction across containers: the token is read just before each such write,
        which leaves a window of one request in which a write can still land after ``forget``.
        """
        check_identifier(user_id, "user_id")
        with guarded(self.charges, "user_epoch", user_id):
            container = self._container(COUNTERS_CONTAINER)
            rows = self._query(container, queries.user_epoch(user_id), docs.user_partition(user_id))
        return str(rows[0]["epoch"]) if rows else ""

    def _ensure_epoch(self, user_id: str) -> None:
        """Give the user an epoch item unless they have one (a query, then a create)."""
        if self.user_epoch(user_id) == "":
            with guarded(self.charges, "user_epoch", user_id):
                container = self._container(COUNTERS_CONTAINER)
                self._create(container, docs.epoch_doc(user_id, uuid.uuid4().hex))

    def _check_epoch(self, user_id: str, epoch: str | None) -> None:
        """Refuse a write from work that started before the user was forgotten."""
        if epoch is not None and self.user_epoch(user_id) != epoch:
            raise ForgottenError(
                "the user was forgotten while this step ran; nothing of theirs was written"
            )
