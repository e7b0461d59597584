# Generated from agent_memory/stores/cosmos/_async/store.py by scripts/unasync.py. Do not edit:
# change the async source and run `python scripts/unasync.py`.
"""The Azure Cosmos DB store (sync, generated).

Item layout, turn sequence numbers and the usage ledger are described in
:mod:`agent_memory.stores.cosmos.documents`; every query is built by
:mod:`agent_memory.stores.cosmos.queries`; containers come from ``containers.json`` (package
data of :mod:`agent_memory.stores.cosmos`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final, Literal

from azure.core import MatchConditions
from azure.cosmos import ContainerProxy, CosmosClient
from azure.cosmos.exceptions import CosmosBatchOperationError, CosmosHttpResponseError

from agent_memory.core import clock as polling
from agent_memory.core.errors import (
    ConfigurationError,
    ConflictError,
    ForgottenError,
    InvalidInputError,
    StoreError,
)
from agent_memory.core.models import (
    COUNTERS_CONTAINER,
    MEMORIES_CONTAINER,
    SUMMARIES_CONTAINER,
    TURNS_CONTAINER,
    AppendResult,
    CounterIncrement,
    Memory,
    MemoryType,
    SearchHit,
    Summary,
    SummaryKind,
    SupersedeReason,
    Turn,
    UsageRecord,
    check_supersede_reason,
    utcnow,
)
from agent_memory.core.query import SearchQuery, Vector, query_terms
from agent_memory.core.validation import check_identifier
from agent_memory.settings import Settings
from agent_memory.stores.cosmos import definitions, queries
from agent_memory.stores.cosmos import documents as docs
from agent_memory.stores.cosmos.charges import OperationCharge, RequestCharges
from agent_memory.stores.cosmos.errors import (
    CONFLICT,
    CONFLICT_ATTEMPTS,
    NOT_FOUND,
    PRECONDITION_FAILED,
    conflict_backoff,
    guarded,
    is_status,
)
from agent_memory.stores.cosmos.queries import CrossPartition
from agent_memory.stores.cosmos.search import hits_of, merge_hits

Clock = Callable[[], datetime]
PartitionValue = list[str]

_ATTEMPTS: Final = 5


class CosmosStore:
    """:class:`~agent_memory.aio.MemoryStore` on Azure Cosmos DB (``azure-cosmos``).

    Authenticates with ``key`` when given, else ``credential``, else
    ``DefaultAzureCredential`` (a user-assigned identity through ``client_id``). Nothing is
    sent until the first operation (or :meth:`connect`), which creates the database and the
    containers of ``stores/cosmos/containers.json`` if they are missing. Throttled requests
    (429) are retried by the SDK after the ``retry-after`` the service sends.
    """

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

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> CosmosStore:
        """The store ``settings`` describe (``COSMOS_DB_*``, ``EMBEDDING_DIMENSIONS``)."""
        if not settings.cosmos_endpoint:
            raise ConfigurationError("COSMOS_DB_ENDPOINT is not set")
        return cls(
            settings.cosmos_endpoint,
            key=settings.cosmos_key,
            client_id=settings.azure_client_id,
            database=settings.cosmos_database,
            dimensions=settings.embedding_dimensions,
            vector_index=settings.cosmos_vector_index,
            turns_ttl=settings.cosmos_turns_ttl,
            counters_ttl=settings.cosmos_counters_ttl,
            verify_tls=settings.cosmos_verify_tls,
            **options,
        )

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

    def __enter__(self) -> CosmosStore:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
            partition = docs.STORE_PARTITION
            body = {
                "id": docs.META_ID,
                "user_id": partition[0],
                "thread_id": partition[1],
                "kind": "meta",
                "model": model,
                "dimensions": dimensions,
                "ttl": -1,  # never expires, whatever the counters container's TTL
            }
            if self._create(container, body):
                return
            found = self._read(container, docs.META_ID, partition) or body
        if (found.get("model"), found.get("dimensions")) != (model, dimensions):
            raise ConfigurationError(
                f"Cosmos DB database {self.database_name!r} holds vectors from embedding model "
                f"{found.get('model')!r} ({found.get('dimensions')} dims), but this client embeds "
                f"with {model!r} ({dimensions} dims). Use the same embedder for this database, "
                "or point COSMOS_DB_DATABASE at a new one."
            )

    # -- turns ---------------------------------------------------------------------------

    def append_turns(
        self, user_id: str, thread_id: str, turns: Sequence[Turn], embeddings: Vector | None
    ) -> AppendResult:
        """Append turns; a turn whose id exists in the thread is kept as stored.

        One query reads the thread's head item and which of the turns exist; the new turns get
        ``seq`` values after the head's ``last_seq`` (and not below the clock in µs) and are
        created in one transactional batch (per 99 turns) together with the head's
        replacement, conditioned on the ETag read. A concurrent append to the same thread
        makes that condition fail (412; 409 when both create the head); the append then starts
        over after a short jittered wait, at most 10 attempts (about 3 s of waiting) before
        ``ConflictError``. So appends to one thread commit one at a time and ``seq`` order is
        commit order: a reader that has seen ``seq`` *n* never later finds a new turn below *n*.
        ``InvalidInputError`` for a turn of another user or thread, or with the reserved id
        ``agent-memory-thread-head``.
        """
        check_identifier(user_id, "user_id")
        check_identifier(thread_id, "thread_id")
        if any(t.user_id != user_id or t.thread_id != thread_id for t in turns):
            raise InvalidInputError("every turn must belong to the given user and thread")
        if any(t.id == docs.HEAD_ID for t in turns):
            raise InvalidInputError(f"turn id {docs.HEAD_ID!r} is reserved by the Cosmos DB store")
        unique: dict[str, Turn] = {}
        vectors: dict[str, Vector | None] = {}
        for index, turn in enumerate(turns):
            vector = None if embeddings is None else embeddings[index]
            docs.check_vector(vector, self.dimensions)
            unique.setdefault(turn.id, turn)
            vectors.setdefault(turn.id, vector)
        if not turns:
            return AppendResult(turns=[], created=0)
        partition = [user_id, thread_id]
        stored: dict[str, Turn] = {}
        existing: set[str] = set()
        self._ensure_epoch(user_id)
        with guarded(self.charges, "append_turns", user_id):
            container = self._container(TURNS_CONTAINER)
            for attempt in range(CONFLICT_ATTEMPTS):
                if attempt:
                    self._pause.sleep(conflict_backoff(attempt - 1))
                pending = [t for t in unique.values() if t.id not in stored]
                query = queries.append_state(user_id, thread_id, [t.id for t in pending])
                head: dict[str, Any] | None = None
                for row in self._query(container, query, partition):
                    if docs.is_head(row):
                        head = row
                    else:
                        stored[row["id"]] = docs.turn_from_doc(row)
                        existing.add(row["id"])
                fresh = [t for t in pending if t.id not in stored]
                if not fresh:
                    break
                try:
                    self._commit_turns(container, partition, head, fresh, vectors, stored)
                    break
                except CosmosBatchOperationError as exc:
                    if not is_status(exc, CONFLICT, PRECONDITION_FAILED):
                        raise
            else:
                raise ConflictError(f"appending to thread {thread_id!r} kept conflicting")
        return AppendResult(
            turns=[stored[t.id] for t in turns], created=len(unique) - len(existing)
        )

    def _commit_turns(
        self,
        container: ContainerProxy,
        partition: PartitionValue,
        head: dict[str, Any] | None,
        fresh: list[Turn],
        vectors: dict[str, Vector | None],
        stored: dict[str, Turn],
    ) -> None:
        """Create ``fresh`` after ``head``, moving the head in each batch; each committed batch
        goes into ``stored`` (a later batch that loses a race leaves the earlier ones there)."""
        last = None if head is None else int(head["last_seq"])
        start = self._seq.reserve(len(fresh), after=last or 0)
        first = start if head is None else int(head["first_seq"])
        etag = None if head is None else str(head["_etag"])
        items = [docs.turn_doc(t, start + i, vectors[t.id]) for i, t in enumerate(fresh)]
        for batch in docs.batches(items, reserve=1):
            body = docs.head_doc(
                partition[0],
                partition[1],
                first_seq=first,
                last_seq=int(batch[-1]["seq"]),
                now=docs.timestamp(self._now()),
            )
            move: tuple[Any, ...] = (
                ("create", (body,))
                if etag is None
                else ("replace", (docs.HEAD_ID, body), {"if_match_etag": etag})
            )
            results = container.execute_item_batch(
                [move, *(("create", (item,)) for item in batch)], partition_key=partition
            )
            etag = str(results[0]["eTag"])
            stored.update((item["id"], docs.turn_from_doc(item)) for item in batch)

    def list_turns(
        self,
        user_id: str,
        thread_id: str,
        *,
        after: int = 0,
        limit: int | None = None,
        latest: bool = False,
    ) -> list[Turn]:
        """Turns of a thread with ``seq > after`` in order; ``latest`` keeps the last ``limit``."""
        query = queries.list_turns(user_id, thread_id, after=after, limit=limit, latest=latest)
        with guarded(self.charges, "list_turns", user_id):
            container = self._container(TURNS_CONTAINER)
            rows = self._query(container, query, [user_id, thread_id])
        turns = [docs.turn_from_doc(r) for r in rows]
        return turns[::-1] if latest else turns

    def list_threads(self, user_id: str) -> list[str]:
        """Ids of the user's threads that have turns, oldest first."""
        with guarded(self.charges, "list_threads", user_id):
            container = self._container(TURNS_CONTAINER)
            rows = self._query(container, queries.thread_heads(user_id), [user_id])
        starts = {r["thread_id"]: int(r["first_seq"]) for r in rows}
        return sorted(starts, key=lambda thread: (starts[thread], thread))

    # -- memories ------------------------------------------------------------------------

    def create_memory(
        self, memory: Memory, embedding: Vector | None, *, epoch: str | None = None
    ) -> bool:
        """Create ``memory`` unless an active one with its id exists; True when written.

        A superseded or expired (not yet purged) item with the same id is replaced, on the
        condition that it is unchanged since it was read (``If-Match`` on its ETag).
        """
        docs.check_vector(embedding, self.dimensions)
        now = self._now()
        body = docs.memory_doc(memory, embedding, now)
        partition = docs.user_partition(memory.user_id)
        self._check_epoch(memory.user_id, epoch)
        self._ensure_epoch(memory.user_id)
        with guarded(self.charges, "create_memory", memory.user_id):
            container = self._container(MEMORIES_CONTAINER)
            for _ in range(_ATTEMPTS):
                if self._create(container, body):
                    return True
                found = self._read(container, memory.id, partition)
                if found is None:
                    continue  # purged since the create was refused
                if not docs.expired(found, now) and not isinstance(found.get("superseded_by"), str):
                    return False
                if self._replace_unchanged(container, found, body):
                    return True
        raise ConflictError(f"memory {memory.id!r} of {memory.user_id!r} kept conflicting")

    def _replace_unchanged(
        self, container: ContainerProxy, found: dict[str, Any], body: dict[str, Any]
    ) -> bool:
        """Replace ``found`` by ``body`` unless it changed since read; False when it did."""
        try:
            container.replace_item(
                found["id"],
                body,
                etag=found["_etag"],
                match_condition=MatchConditions.IfNotModified,
            )
        except CosmosHttpResponseError as exc:
            if is_status(exc, NOT_FOUND, PRECONDITION_FAILED):
                return False
            raise
        return True

    def get_memory(self, user_id: str, memory_id: str) -> Memory | None:
        """One unexpired memory of the user (superseded or not), or None."""
        check_identifier(user_id, "user_id")
        if not memory_id or docs.has_forbidden(memory_id):
            return None
        with guarded(self.charges, "get_memory", user_id):
            container = self._container(MEMORIES_CONTAINER)
            found = self._read(container, memory_id, docs.user_partition(user_id))
        if found is None or docs.expired(found, self._now()):
            return None
        return docs.memory_from_doc(found)

    def list_memories(
        self,
        user_id: str,
        *,
        memory_types: Sequence[MemoryType] | None = None,
        thread_id: str | None = None,
        min_confidence: float | None = None,
        include_superseded: bool = False,
        limit: int | None = None,
    ) -> list[Memory]:
        """The user's unexpired memories, newest first."""
        query = queries.list_memories(
            user_id,
            self._now().timestamp(),
            memory_types=memory_types,
            thread_id=thread_id,
            min_confidence=min_confidence,
            include_superseded=include_superseded,
            limit=limit,
        )
        with guarded(self.charges, "list_memories", user_id):
            container = self._container(MEMORIES_CONTAINER)
            rows = self._query(container, query, docs.user_partition(user_id))
        return [docs.memory_from_doc(r) for r in rows]

    def supersede(
        self,
        user_id: str,
        memory_id: str,
        *,
        by: str,
        reason: SupersedeReason,
        epoch: str | None = None,
    ) -> bool:
        """Mark an active memory superseded (a patch conditioned on it being active).

        Any write restarts a Cosmos DB item's TTL, so a memory that expires (``expires_at``)
        gets a second patch setting its ``ttl`` to the seconds it had left: superseding never
        extends a memory's life.
        """
        check_supersede_reason(reason)
        check_identifier(user_id, "user_id")
        if not memory_id or docs.has_forbidden(memory_id):
            return False
        self._check_epoch(user_id, epoch)
        moment = self._now()
        now = docs.timestamp(moment)
        operations = [
            {"op": "set", "path": "/superseded_by", "value": by},
            {"op": "set", "path": "/supersede_reason", "value": reason},
            {"op": "set", "path": "/superseded_at", "value": now},
            {"op": "set", "path": "/updated_at", "value": now},
        ]
        partition = docs.user_partition(user_id)
        with guarded(self.charges, "supersede", user_id):
            container = self._container(MEMORIES_CONTAINER)
            condition = queries.active_memory_condition(moment.timestamp())
            patched = self._patch(container, memory_id, partition, operations, condition)
            if patched is None:
                return False
            remaining = docs.remaining_ttl(patched, moment)
            if remaining is not None:
                ttl = [{"op": "set", "path": "/ttl", "value": remaining}]
                self._patch(container, memory_id, partition, ttl)
        return True

    # -- search --------------------------------------------------------------------------

    def search(self, user_id: str, query: SearchQuery) -> list[SearchHit]:
        """Hybrid search in the user's partitions: Cosmos ranks, RRF fuses (see queries).

        Each ranked query pins the user's key (and thread) in ``WHERE`` and is sent without a
        partition key, so the SDK runs it through the service's query plan: rankings come back
        in order across physical partitions, and full-text statistics are those of the
        partitions holding the key (``full_text_score_scope="Local"``). ``InvalidInputError``
        when ``query.top`` is not an integer from 1 to 1000.
        """
        check_identifier(user_id, "user_id")
        queries.literal_top(query.top)
        terms = query_terms(query.text)
        now = self._now().timestamp()
        ranked: list[list[SearchHit]] = []
        sources: list[tuple[Literal["memories", "turns"], str]] = [("memories", MEMORIES_CONTAINER)]
        if query.include_turns:
            sources.append(("turns", TURNS_CONTAINER))
        with guarded(self.charges, "search", user_id):
            for kind, name in sources:
                request = queries.search(kind, user_id, query, terms, now)
                if request is None:
                    continue
                options = {} if request.ranking == "vector" else {"full_text_score_scope": "Local"}
                container = self._container(name)
                rows = self._query(container, request, None, **options)
                ranked.append(hits_of(kind, rows, request, query.min_similarity))
        return merge_hits(ranked, query.top, terms)

    # -- summaries -----------------------------------------------------------------------

    def get_summary(
        self, user_id: str, kind: SummaryKind, thread_id: str | None = None
    ) -> Summary | None:
        """The thread summary (``kind='thread'``) or user profile (``kind='user'``)."""
        check_identifier(user_id, "user_id")
        if kind == "thread" and thread_id is None:
            return None
        partition = docs.thread_partition(user_id, thread_id if kind == "thread" else None)
        with guarded(self.charges, "get_summary", user_id):
            container = self._container(SUMMARIES_CONTAINER)
            found = self._read(container, docs.summary_id(kind), partition)
        return None if found is None else docs.summary_from_doc(found)

    def put_summary(
        self, summary: Summary, embedding: Vector | None, *, epoch: str | None = None
    ) -> None:
        """Create or replace a summary, unless the stored one covers more turns.

        A stored summary with a higher ``covers_up_to`` is kept (a late or repeated step
        never rolls a summary back); otherwise the new one replaces it, conditioned on the
        ETag read (a concurrent writer makes the comparison start over).
        """
        docs.check_vector(embedding, self.dimensions)
        self._check_epoch(summary.user_id, epoch)
        body = docs.summary_doc(summary, embedding)
        query = queries.summary_state(summary.user_id, body["thread_id"], body["id"])
        partition = [summary.user_id, body["thread_id"]]
        with guarded(self.charges, "put_summary", summary.user_id):
            container = self._container(SUMMARIES_CONTAINER)
            for _ in range(_ATTEMPTS):
                found = self._query(container, query, partition)
                if not found:
                    if self._create(container, body):
                        return
                    continue
                if int(found[0].get("covers_up_to") or 0) > summary.covers_up_to:
                    return
                try:
                    container.replace_item(
                        body["id"],
                        body,
                        etag=found[0]["_etag"],
                        match_condition=MatchConditions.IfNotModified,
                    )
                    return
                except CosmosHttpResponseError as exc:
                    if not is_status(exc, NOT_FOUND, PRECONDITION_FAILED):
                        raise
        raise ConflictError(f"the {summary.kind} summary of {summary.user_id!r} kept conflicting")

    def list_summaries(self, user_id: str, kind: SummaryKind) -> list[Summary]:
        """Every summary of a kind for the user, most recently updated first."""
        with guarded(self.charges, "list_summaries", user_id):
            container = self._container(SUMMARIES_CONTAINER)
            rows = self._query(container, queries.list_summaries(user_id, kind), [user_id])
        summaries = [docs.summary_from_doc(r) for r in rows]
        return sorted(summaries, key=lambda s: (s.updated_at, s.thread_id or ""), reverse=True)

    # -- usage ledger --------------------------------------------------------------------

    def record_usage(self, record: UsageRecord, *, epoch: str | None = None) -> None:
        """Append one model call to the ledger, with the store's RU for the user since the last."""
        self._check_epoch(record.user_id, epoch)
        body = docs.usage_doc(
            record,
            item_id=f"usage-{uuid.uuid4().hex}",
            seq=self._seq.reserve(1),
            charges=self.charges.take(record.user_id),
        )
        with guarded(self.charges, "record_usage", record.user_id):
            container = self._container(COUNTERS_CONTAINER)
            container.create_item(body)

    def list_usage(self, user_id: str) -> list[UsageRecord]:
        """The user's usage ledger, oldest first."""
        return [docs.usage_from_doc(r) for r in self._ledger(user_id, charges=False)]

    def ledgered_request_charges(self, user_id: str) -> dict[str, float]:
        """Request units the ledger attributes to the user's store operations, per operation."""
        totals: dict[str, float] = {}
        for row in self._ledger(user_id, charges=True):
            for name, value in (row.get("request_charges") or {}).items():
                totals[name] = totals.get(name, 0.0) + float(value)
        return totals

    def _ledger(self, user_id: str, *, charges: bool) -> list[dict[str, Any]]:
        with guarded(self.charges, "list_usage", user_id):
            container = self._container(COUNTERS_CONTAINER)
            query = queries.list_usage(user_id, charges=charges)
            return self._query(container, query, docs.user_partition(user_id))

    # -- counters and watermarks ---------------------------------------------------------

    def increment_counter(
        self,
        user_id: str,
        name: str,
        *,
        thread_id: str | None = None,
        by: int = 1,
        owner: str | None = None,
        epoch: str | None = None,
    ) -> CounterIncrement:
        """Atomically add ``by`` (a patch ``incr``); return the values before and after.

        ``epoch=`` is read just before the write (see :meth:`user_epoch`).
        """
        check_identifier(user_id, "user_id")
        self._check_epoch(user_id, epoch)
        item_id = docs.counter_id(name)
        partition = docs.thread_partition(user_id, thread_id)
        now = docs.timestamp(self._now())
        operations: list[dict[str, Any]] = [{"op": "incr", "path": "/total", "value": by}]
        if owner is not None:
            operations += [
                {"op": "move", "from": "/last_owner", "path": "/previous_owner"},
                {"op": "set", "path": "/last_owner", "value": owner},
            ]
        operations.append({"op": "set", "path": "/updated_at", "value": now})
        with guarded(self.charges, "increment_counter", user_id):
            container = self._container(COUNTERS_CONTAINER)
            if by == 0 and owner is None:
                found = self._read(container, item_id, partition) or {}
                total = int(found.get("total", 0))
                return CounterIncrement(
                    before=total, after=total, previous_owner=found.get("last_owner")
                )
            for _ in range(_ATTEMPTS):
                patched = self._patch(container, item_id, partition, operations)
                if patched is not None:
                    after = int(patched["total"])
                    previous = patched.get("previous_owner" if owner else "last_owner")
                    return CounterIncrement(before=after - by, after=after, previous_owner=previous)
                body = docs.counter_doc(item_id, partition, name, by, owner, now)
                if self._create(container, body):
                    return CounterIncrement(before=0, after=by, previous_owner=None)
        raise ConflictError(f"counter {name!r} of {user_id!r} kept conflicting")

    def get_watermark(self, user_id: str, thread_id: str, step: str) -> int:
        """The turn ``seq`` a step has processed up to in a thread (0 when none)."""
        check_identifier(user_id, "user_id")
        with guarded(self.charges, "get_watermark", user_id):
            container = self._container(COUNTERS_CONTAINER)
            found = self._read(container, docs.watermark_id(step), [user_id, thread_id])
        return 0 if found is None else int(found["seq"])

    def advance_watermark(
        self, user_id: str, thread_id: str, step: str, value: int, *, epoch: str | None = None
    ) -> int:
        """Move a watermark forward (a patch conditioned on ``seq < value``); return it."""
        check_identifier(user_id, "user_id")
        self._check_epoch(user_id, epoch)
        item_id = docs.watermark_id(step)
        partition = [user_id, thread_id]
        target = int(value)
        now = docs.timestamp(self._now())
        operations: list[dict[str, Any]] = [
            {"op": "set", "path": "/seq", "value": target},
            {"op": "set", "path": "/updated_at", "value": now},
        ]
        with guarded(self.charges, "advance_watermark", user_id):
            container = self._container(COUNTERS_CONTAINER)
            for _ in range(_ATTEMPTS):
                condition = f"FROM c WHERE c.seq < {target}"
                patched = self._patch(container, item_id, partition, operations, condition)
                if patched is not None:
                    return int(patched["seq"])
                found = self._read(container, item_id, partition)
                if found is not None:
                    if int(found["seq"]) >= target:
                        return int(found["seq"])
                    continue
                body = docs.watermark_doc(item_id, partition, step, target, now)
                if self._create(container, body):
                    return target
        raise ConflictError(f"watermark {step!r} of {user_id!r} kept conflicting")

    def compare_and_set_watermark(
        self,
        user_id: str,
        thread_id: str,
        step: str,
        *,
        expected: int,
        value: int,
        epoch: str | None = None,
    ) -> bool:
        """Move a watermark from ``expected`` (0: none stored) to ``value``; True when moved.

        From 0 the item is created (a conflict means it exists: then patched as below);
        otherwise a patch conditioned on ``seq = expected``, so of two runs that read the same
        watermark exactly one moves it. False (nothing written) when the condition fails or
        ``value`` is not above ``expected``.
        """
        check_identifier(user_id, "user_id")
        self._check_epoch(user_id, epoch)
        expected, target = int(expected), int(value)
        if target <= expected:
            return False
        item_id = docs.watermark_id(step)
        partition = [user_id, thread_id]
        now = docs.timestamp(self._now())
        operations: list[dict[str, Any]] = [
            {"op": "set", "path": "/seq", "value": target},
            {"op": "set", "path": "/updated_at", "value": now},
        ]
        with guarded(self.charges, "compare_and_set_watermark", user_id):
            container = self._container(COUNTERS_CONTAINER)
            if expected == 0:
                body = docs.watermark_doc(item_id, partition, step, target, now)
                if self._create(container, body):
                    return True
            condition = f"FROM c WHERE c.seq = {expected}"
            patched = self._patch(container, item_id, partition, operations, condition)
        return patched is not None

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

    # -- deletion ------------------------------------------------------------------------

    def forget(self, user_id: str, *, thread_id: str | None = None) -> dict[str, int]:
        """Delete every item of the user (or one thread) in every container; counts per container.

        ``memories_turns`` counts turns (a thread's head item goes too, uncounted);
        ``memories_counters`` counts counters and watermarks; the usage ledger is deleted with
        the user but not counted (as in the embedded store).
        """
        check_identifier(user_id, "user_id")
        if thread_id is not None:
            check_identifier(thread_id, "thread_id")
        counts: dict[str, int] = {}
        with guarded(self.charges, "forget", user_id):
            for name in (TURNS_CONTAINER, MEMORIES_CONTAINER, SUMMARIES_CONTAINER):
                container = self._container(name)
                rows = self._forget_rows(container, name, user_id, thread_id)
                deleted = self._delete(container, user_id, rows)
                counts[name] = sum(1 for r in deleted if not docs.is_head(r))
            container = self._container(COUNTERS_CONTAINER)
            rows = self._forget_rows(container, COUNTERS_CONTAINER, user_id, thread_id)
            deleted = self._delete(container, user_id, rows)
            counts[COUNTERS_CONTAINER] = sum(1 for r in deleted if r.get("kind") in docs.COUNTED)
            if thread_id is not None:  # steps in flight for the user start again
                container.upsert_item(docs.epoch_doc(user_id, uuid.uuid4().hex))
        return counts

    def _forget_rows(
        self, container: ContainerProxy, name: str, user_id: str, thread_id: str | None
    ) -> list[dict[str, Any]]:
        if thread_id is None:
            return self._query(container, queries.items_of(user_id), [user_id])
        if name == MEMORIES_CONTAINER:
            query = queries.memories_from_thread(user_id, thread_id)
            return self._query(container, query, docs.user_partition(user_id))
        query = queries.items_of(user_id, thread_id)
        return self._query(container, query, [user_id, thread_id])

    def _delete(
        self, container: ContainerProxy, user_id: str, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Delete ``rows`` (one transactional batch per partition and 100 items); the deleted."""
        deleted: list[dict[str, Any]] = []
        for thread, group in docs.by_partition(rows):
            partition = [user_id, thread]
            for batch in docs.batches(group):
                try:
                    container.execute_item_batch(
                        [("delete", (row["id"],)) for row in batch], partition_key=partition
                    )
                    deleted.extend(batch)
                except CosmosBatchOperationError as exc:
                    if not is_status(exc, NOT_FOUND):
                        raise
                    for row in batch:
                        try:
                            container.delete_item(row["id"], partition_key=partition)
                            deleted.append(row)
                        except CosmosHttpResponseError as missing:
                            if not is_status(missing, NOT_FOUND):
                                raise
        return deleted
