"""``MemoryClient``: the public SDK surface (async source; the sync client is generated)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from agent_memory.core.due import MAX_DEDUP_POOL, Thresholds
from agent_memory.core.errors import ConfigurationError, InvalidInputError, NotFoundError
from agent_memory.core.inputs import (
    build_search,
    build_turns,
    check_confidence,
    check_flag,
    check_limit,
    check_memory_id,
    check_memory_types,
    check_optional_identifier,
    check_tags,
    check_turn_ids,
    mode_needs_vector,
)
from agent_memory.core.models import (
    AppendResult,
    Memory,
    MemoryType,
    SearchHit,
    SearchMode,
    Summary,
    Turn,
    TurnInput,
    UsageReport,
    supersede_chain,
    utcnow,
)
from agent_memory.core.requests import ReconcileResult
from agent_memory.core.status import OWNER_DURABLE, ProcessReport
from agent_memory.core.steps import EXTRACT_STEP
from agent_memory.core.validation import check_content, check_identifier, check_timeout
from agent_memory.embeddings._async.embedder import AsyncEmbedder
from agent_memory.model._async.connect import build_embedder, build_model_client
from agent_memory.processor._async.durable import AsyncDurableFunctionProcessor
from agent_memory.processor._async.inprocess import AsyncInProcessProcessor
from agent_memory.processor.status import PipelineStatus
from agent_memory.settings import EmbeddingsChoice, Settings
from agent_memory.stores._async.factory import build_store
from agent_memory.stores._async.protocol import AsyncMemoryStore

if TYPE_CHECKING:
    from agent_memory.model._async.client import AsyncModelClient


class AsyncMemoryClient:
    """Long-term memory for agents: write turns, read and search memories, per user.

    Configuration has one path: the environment, read exactly as :meth:`from_env` reads it
    (:class:`~agent_memory.Settings`, or ``settings=`` instead of the environment), then the
    keyword arguments given here, each overriding the setting of the same name. With nothing
    set it opens the embedded store at ``./.agent_memory/memory.db`` with the local embedder
    and no model. Use it as a context manager or call :meth:`close`.

    Keyword arguments:
        path: the embedded SQLite store file (SQLite even when ``COSMOS_DB_ENDPOINT`` is set).
        store, embedder, ai: ready-made parts, used instead of building them from settings.
        settings: the settings to start from instead of the environment.
        credential: an Azure token credential (``azure.identity`` for the sync client,
            ``azure.identity.aio`` for the async one) for Cosmos DB and AI Foundry when no key
            is set; default ``DefaultAzureCredential``.
        cosmos_endpoint, cosmos_key, cosmos_database: the Cosmos DB account (``COSMOS_DB_*``).
        ai_foundry_endpoint, ai_foundry_api_key, chat_deployment, embedding_deployment:
            Azure OpenAI / AI Foundry (``AI_FOUNDRY_*``).
        openai_base_url, openai_api_key, openai_chat_model, openai_embedding_model: an
            OpenAI-compatible API (``OPENAI_*``).
        embeddings: ``local``, ``azure``, ``openai`` or ``auto`` (``AGENT_MEMORY_EMBEDDINGS``).
        processor_owner: ``inprocess`` or ``durable`` (``MEMORY_PROCESSOR_OWNER``).
        thresholds: a ``Thresholds`` or a mapping of some of its fields (``*_EVERY_N``).

    Raises:
        ConfigurationError: a setting or argument is invalid (nothing is created).
        InvalidInputError: both ``path`` and ``store``.
        ConfigurationError: both ``path`` and ``cosmos_endpoint``, or a bad setting.
    """

    def __init__(
        self,
        *,
        path: str | os.PathLike[str] | None = None,
        store: AsyncMemoryStore | None = None,
        embedder: AsyncEmbedder | None = None,
        ai: AsyncModelClient | None = None,
        settings: Settings | None = None,
        credential: Any = None,
        cosmos_endpoint: str | None = None,
        cosmos_key: str | None = None,
        cosmos_database: str | None = None,
        ai_foundry_endpoint: str | None = None,
        ai_foundry_api_key: str | None = None,
        chat_deployment: str | None = None,
        embedding_deployment: str | None = None,
        openai_base_url: str | None = None,
        openai_api_key: str | None = None,
        openai_chat_model: str | None = None,
        openai_embedding_model: str | None = None,
        embeddings: EmbeddingsChoice | None = None,
        processor_owner: Literal["inprocess", "durable"] | None = None,
        thresholds: Thresholds | Mapping[str, int] | None = None,
    ) -> None:
        if path is not None and store is not None:
            raise InvalidInputError("pass either path or store, not both")
        if path is not None and cosmos_endpoint is not None:
            raise ConfigurationError("pass either path or cosmos_endpoint, not both")
        # Validated once with the environment (or ``settings``), so an argument may complete
        # what the environment leaves out.
        configure = settings.override if settings is not None else Settings.from_env
        self.settings = configure(
            cosmos_endpoint=cosmos_endpoint,
            cosmos_key=cosmos_key,
            cosmos_database=cosmos_database,
            ai_foundry_endpoint=ai_foundry_endpoint,
            ai_foundry_api_key=ai_foundry_api_key,
            chat_deployment=chat_deployment,
            embedding_deployment=embedding_deployment,
            openai_base_url=openai_base_url,
            openai_api_key=openai_api_key,
            openai_chat_model=openai_chat_model,
            openai_embedding_model=openai_embedding_model,
            embeddings=embeddings,
            processor_owner=processor_owner,
            thresholds=thresholds,
        )
        self._owns_store = store is None
        self.embedder: AsyncEmbedder = (
            embedder if embedder is not None else build_embedder(self.settings, credential)
        )  # first: a configuration error must not leave a store file behind
        self.store: AsyncMemoryStore = (
            store if store is not None else build_store(self.settings, path, credential)
        )
        self.ai = (
            ai
            if ai is not None
            else build_model_client(self.settings, self.embedder, self.store, credential)
        )
        self.processor: AsyncInProcessProcessor | AsyncDurableFunctionProcessor = (
            AsyncDurableFunctionProcessor(self.store, self.ai, self.settings.thresholds)
            if self.settings.processor_owner == OWNER_DURABLE
            else AsyncInProcessProcessor(self.store, self.ai, self.settings.thresholds)
        )
        self._ready = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AsyncMemoryClient:
        """A client configured from ``environ`` (default ``os.environ``; see ``Settings``)."""
        return cls(settings=Settings.from_env(environ))

    async def _prepare(self) -> None:
        if not self._ready:
            await self.store.ensure_embedding_model(self.embedder.model, self.embedder.dimensions)
            self._ready = True

    # -- turns ---------------------------------------------------------------------------

    async def add(
        self,
        user_id: str,
        thread_id: str,
        role: str,
        content: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        created_at: datetime | None = None,
        turn_id: str | None = None,
    ) -> Turn:
        """Append one turn to a thread and return it as stored."""
        item: dict[str, Any] = {"role": role, "content": content, "metadata": metadata}
        if created_at is not None:
            item["created_at"] = created_at
        if turn_id is not None:
            item["id"] = turn_id
        stored = await self.add_turns(user_id, thread_id, [item])
        return stored[0]

    async def add_turns(
        self,
        user_id: str,
        thread_id: str,
        turns: Sequence[TurnInput | Mapping[str, Any]],
    ) -> list[Turn]:
        """Append turns atomically: all are validated first; a known turn id is not duplicated."""
        return (await self.append_turns(user_id, thread_id, turns)).turns

    async def append_turns(
        self,
        user_id: str,
        thread_id: str,
        turns: Sequence[TurnInput | Mapping[str, Any]],
    ) -> AppendResult:
        """Like :meth:`add_turns`, and also say how many turns were new.

        Returns ``AppendResult``: ``turns`` as stored (in the order given) and ``created``,
        the number not already stored under their id. Raises ``InvalidInputError``.
        """
        built = build_turns(
            user_id, thread_id, turns, max_chars=self.settings.max_content_chars, now=utcnow()
        )
        if not built:
            return AppendResult(turns=[], created=0)
        await self._prepare()
        vectors = await self.embedder.embed([t.content for t in built])
        appended = await self.store.append_turns(user_id, thread_id, built, vectors)
        await self.processor.on_turns_added(user_id, thread_id, appended.created)
        return appended

    async def get_turns(
        self, user_id: str, thread_id: str, *, limit: int | None = None
    ) -> list[Turn]:
        """A thread's turns in order; with ``limit``, the most recent ``limit`` of them."""
        check_identifier(user_id, "user_id")
        check_identifier(thread_id, "thread_id")
        return await self.store.list_turns(
            user_id, thread_id, limit=check_limit(limit), latest=limit is not None
        )

    async def get_threads(self, user_id: str) -> list[str]:
        """The user's thread ids, in the order their first turn was stored."""
        check_identifier(user_id, "user_id")
        return await self.store.list_threads(user_id)

    # -- memories ------------------------------------------------------------------------

    async def add_memory(
        self,
        user_id: str,
        thread_id: str,
        content: str,
        *,
        type: MemoryType = "fact",
        confidence: float = 1.0,
        tags: Sequence[str] | None = None,
        source_turn_ids: Sequence[str] | None = None,
        situation: str | None = None,
        action: str | None = None,
        outcome: str | None = None,
        ttl: int | None = None,
    ) -> Memory:
        """Store a memory directly (no model call); an identical one is returned, not copied."""
        check_identifier(user_id, "user_id")
        check_identifier(thread_id, "thread_id")
        check_content(content, max_chars=self.settings.max_content_chars)
        memory_type = check_memory_types([type], "type")
        assert memory_type is not None
        if confidence is None:  # not "unset": it would be stored as 0
            raise InvalidInputError("confidence must be a number between 0 and 1; got None")
        memory = Memory.create(
            user_id=user_id,
            thread_id=thread_id,
            type=memory_type[0],
            content=content,
            confidence=check_confidence(confidence, "confidence") or 0.0,
            tags=list(check_tags(tags) or ()),
            source_turn_ids=check_turn_ids(source_turn_ids),
            ttl=check_limit(ttl, "ttl"),
            situation=situation,
            action=action,
            outcome=outcome,
        )
        await self._prepare()
        vectors = await self.embedder.embed([memory.content])
        await self.store.create_memory(memory, vectors[0])
        stored = await self.store.get_memory(user_id, memory.id)
        return stored or memory

    async def get_memory(self, user_id: str, memory_id: str) -> Memory:
        """One memory by id (superseded or not); ``NotFoundError`` when absent."""
        check_identifier(user_id, "user_id")
        found = await self.store.get_memory(user_id, check_memory_id(memory_id))
        if found is None:
            raise NotFoundError(f"no memory {memory_id!r} for this user")
        return found

    async def get_memories(
        self,
        user_id: str,
        *,
        memory_types: Sequence[MemoryType] | None = None,
        thread_id: str | None = None,
        min_confidence: float | None = None,
        include_superseded: bool = False,
        limit: int | None = None,
    ) -> list[Memory]:
        """The user's memories (not superseded unless asked), newest first.

        Scope: the user. With ``thread_id``, that thread's facts plus the user's procedural
        and episodic memories from every thread (they belong to the user, as rules and
        experiences carry over to new conversations).
        """
        check_identifier(user_id, "user_id")
        return await self.store.list_memories(
            user_id,
            memory_types=check_memory_types(memory_types),
            thread_id=check_optional_identifier(thread_id, "thread_id"),
            min_confidence=check_confidence(min_confidence),
            include_superseded=check_flag(include_superseded, "include_superseded"),
            limit=check_limit(limit),
        )

    async def search(
        self,
        user_id: str,
        query: str,
        *,
        top: int = 5,
        memory_types: Sequence[MemoryType] | None = None,
        thread_id: str | None = None,
        tags: Sequence[str] | None = None,
        min_confidence: float | None = None,
        include_turns: bool = False,
        include_superseded: bool = False,
        mode: SearchMode = "hybrid",
    ) -> list[SearchHit]:
        """Hybrid (vector + full-text) search over the user's memories, and turns if asked.

        Scope: the user. With ``thread_id``, that thread's facts and turns plus the user's
        procedural and episodic memories from every thread. Returns at most ``top`` hits,
        best first (see ``SearchHit.score``).
        """
        request = build_search(
            user_id,
            query,
            top=top,
            memory_types=memory_types,
            thread_id=thread_id,
            tags=tags,
            min_confidence=min_confidence,
            include_turns=include_turns,
            include_superseded=include_superseded,
            mode=mode,
            max_chars=self.settings.max_content_chars,
        )
        await self._prepare()
        if mode_needs_vector(request.mode):
            vectors = await self.embedder.embed([query])
            request = dataclasses.replace(request, vector=vectors[0])
        return await self.store.search(user_id, request)

    # -- summaries -----------------------------------------------------------------------

    async def get_thread_summary(self, user_id: str, thread_id: str) -> Summary | None:
        """The thread's summary, or None before one is written."""
        check_identifier(user_id, "user_id")
        check_identifier(thread_id, "thread_id")
        return await self.store.get_summary(user_id, "thread", thread_id)

    async def get_user_summary(self, user_id: str) -> Summary | None:
        """The user's cross-thread profile, or None before one is written."""
        check_identifier(user_id, "user_id")
        return await self.store.get_summary(user_id, "user")

    # -- pipeline ------------------------------------------------------------------------

    async def process_now(self, user_id: str, thread_id: str | None = None) -> ProcessReport:
        """Run every pipeline step over the user's pending turns now, whatever the thresholds.

        Scope: every thread of the user, or only ``thread_id`` (reconcile and the user summary
        always cover the user). Steps run in order: per thread extraction then its summary,
        then reconcile, then the user summary. A ``ModelError`` stops the run at the failing
        step: what earlier steps (and earlier extraction batches) wrote stays written, the
        failing step writes nothing, and its turns stay pending for the next run.
        """
        check_identifier(user_id, "user_id")
        thread = check_optional_identifier(thread_id, "thread_id")
        await self._prepare()
        return await self.processor.process_now(user_id, thread)

    async def process_now_and_wait(
        self, user_id: str, thread_id: str, *, timeout: float = 30
    ) -> None:
        """Return once the thread's extraction covers its latest turn; ``TimeoutError`` if not.

        In-process this runs the pending steps first; with ``MEMORY_PROCESSOR_OWNER=durable`` it
        waits for the Durable Functions app, and the error names what is still pending.
        """
        check_identifier(user_id, "user_id")
        check_identifier(thread_id, "thread_id")
        seconds = check_timeout(timeout)
        await self._prepare()
        await self.processor.process_now_and_wait(user_id, thread_id, timeout=seconds)

    async def reconcile(self, user_id: str, n: int = 50) -> ReconcileResult:
        """Supersede duplicates and contradictions among the ``n`` most recent facts (≤ 500)."""
        check_identifier(user_id, "user_id")
        pool = check_limit(n, "n", maximum=MAX_DEDUP_POOL, minimum=2)
        await self._prepare()
        return await self.processor.reconcile(user_id, pool)

    async def get_memory_history(self, user_id: str, memory_id: str) -> list[Memory]:
        """The supersede chain a memory belongs to, oldest first."""
        check_identifier(user_id, "user_id")
        await self.get_memory(user_id, memory_id)
        every = await self.store.list_memories(user_id, include_superseded=True)
        return supersede_chain(every, memory_id)

    async def usage(self, user_id: str) -> UsageReport:
        """Model calls and tokens spent on the user's memory, from the usage ledger."""
        check_identifier(user_id, "user_id")
        return UsageReport.of(await self.store.list_usage(user_id))

    async def pending_turns(self, user_id: str) -> dict[str, int]:
        """Per thread of the user, how many turns extraction has not covered yet."""
        check_identifier(user_id, "user_id")
        pending: dict[str, int] = {}
        for thread in await self.store.list_threads(user_id):
            watermark = await self.store.get_watermark(user_id, thread, EXTRACT_STEP)
            pending[thread] = len(await self.store.list_turns(user_id, thread, after=watermark))
        return pending

    @property
    def pipeline_status(self) -> PipelineStatus:
        """Completed steps and recent failures of the in-process pipeline.

        Empty with the durable owner: the Function app's held-off and quarantined steps live in
        its task hub (the counter entity's ``health``), not in the store; Docs/durable.md shows
        how to read them.
        """
        return self.processor.status

    # -- deletion and lifecycle ----------------------------------------------------------

    async def forget(self, user_id: str, *, thread_id: str | None = None) -> dict[str, int]:
        """Delete every item of the user (or of one thread); counts deleted per container."""
        check_identifier(user_id, "user_id")
        return await self.store.forget(
            user_id, thread_id=check_optional_identifier(thread_id, "thread_id")
        )

    async def close(self) -> None:
        """Finish background steps, then close the store (if opened here) and model clients."""
        await self.processor.drain()
        if self.ai is not None:
            await self.ai.close()
        if self._owns_store:
            await self.store.close()
        await self.embedder.close()

    async def __aenter__(self) -> AsyncMemoryClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
