# Generated from agent_memory/_async/activities.py by scripts/unasync.py. Do not edit:
# change the async source and run `python scripts/unasync.py`.
"""The pipeline steps as host-free activities: ``step(store, ai, request) -> result``.

Each is idempotent: memory ids are deterministic, supersedes are conditional and watermarks
only advance after the writes they cover succeed. The same functions run in-process and as
Durable Functions activities (sync, generated).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from agent_memory._sync.store import MemoryStore
from agent_memory.models import Memory, Summary, utcnow
from agent_memory.pipeline.batching import pack_turns
from agent_memory.pipeline.requests import (
    UNCLASSIFIED_TAG,
    ExtractResult,
    ReconcileRequest,
    ReconcileResult,
    SummaryResult,
    ThreadRequest,
    UserRequest,
)
from agent_memory.prompts import extraction, summaries
from agent_memory.prompts import reconcile as reconcile_prompt

if TYPE_CHECKING:
    from agent_memory._sync.model import ModelClient

logger = logging.getLogger("agent_memory.pipeline")

EXTRACT_STEP = "extract_memories"
RECONCILE_STEP = "reconcile"
THREAD_SUMMARY_STEP = "summarize_thread"
USER_SUMMARY_STEP = "summarize_user"
KNOWN_MEMORIES_IN_PROMPT = 40
MIN_CONFIDENCE = 0.5


def extract_memories(store: MemoryStore, ai: ModelClient, request: ThreadRequest) -> ExtractResult:
    """Extract memories from every turn after the thread's extraction watermark."""
    user_id, thread_id = request.user_id, request.thread_id
    watermark = store.get_watermark(user_id, thread_id, EXTRACT_STEP)
    turns = store.list_turns(user_id, thread_id, after=watermark)
    result = ExtractResult(watermark=watermark)
    for batch in pack_turns(turns):
        known = store.list_memories(user_id, limit=KNOWN_MEMORIES_IN_PROMPT)
        output = ai.parse(
            user_id=user_id,
            step=EXTRACT_STEP,
            prompt=extraction.PROMPT,
            messages=extraction.build_messages(batch, [m.content for m in known]),
            output=extraction.ExtractionOutput,
        )
        batch_ids = {t.id for t in batch}
        memories: list[Memory] = []
        for item in output.items:
            if not item.content.strip():
                continue
            sources = [i for i in item.source_turn_ids if i in batch_ids]
            result.unknown_turn_ids += len(item.source_turn_ids) - len(sources)
            uncertain = item.bucket == "unclassified" or item.confidence < MIN_CONFIDENCE
            episodic = item.bucket == "episodic" and not uncertain
            memories.append(
                Memory.create(
                    user_id=user_id,
                    thread_id=thread_id,
                    type="fact" if uncertain else item.bucket,  # type: ignore[arg-type]
                    content=item.content.strip(),
                    confidence=min(max(item.confidence, 0.0), 1.0),
                    tags=sorted({*item.tags, *([UNCLASSIFIED_TAG] if uncertain else [])}),
                    source_turn_ids=sources or [t.id for t in batch],
                    prompt_version=extraction.PROMPT.tag,
                    situation=item.situation if episodic else None,
                    action=item.action if episodic else None,
                    outcome=item.outcome if episodic else None,
                )
            )
        vectors = ai.embed([m.content for m in memories]) if memories else []
        for memory, vector in zip(memories, vectors, strict=True):
            if store.create_memory(memory, vector):
                result.created += 1
            else:
                result.duplicates += 1
        last = batch[-1].seq or 0
        result.watermark = store.advance_watermark(user_id, thread_id, EXTRACT_STEP, last)
        result.turns += len(batch)
        result.batches += 1
    if result.unknown_turn_ids:
        logger.warning(
            "%s: ignored %d turn ids the model invented", EXTRACT_STEP, result.unknown_turn_ids
        )
    return result


def reconcile(store: MemoryStore, ai: ModelClient, request: ReconcileRequest) -> ReconcileResult:
    """Supersede duplicates and contradicted facts among the ``n`` most recent active facts."""
    facts = store.list_memories(request.user_id, memory_types=["fact"], limit=request.n)
    result = ReconcileResult(considered=len(facts))
    if len(facts) < 2:
        return result
    by_short = {f"m{i}": fact for i, fact in enumerate(reversed(facts), start=1)}
    output = ai.parse(
        user_id=request.user_id,
        step=RECONCILE_STEP,
        prompt=reconcile_prompt.PROMPT,
        messages=reconcile_prompt.build_messages(
            [(sid, f.created_at.date().isoformat(), f.content) for sid, f in by_short.items()]
        ),
        output=reconcile_prompt.ReconcileOutput,
    )
    pairs = [(d, g.keep, "duplicate") for g in output.duplicate_groups for d in g.duplicates]
    pairs += [(c.older, c.newer, "contradict") for c in output.contradictions]
    for loser_sid, winner_sid, reason in pairs:
        loser, winner = by_short.get(loser_sid), by_short.get(winner_sid)
        if loser is None or winner is None or loser.id == winner.id:
            result.ignored_ids += 1
            continue
        if store.supersede(request.user_id, loser.id, by=winner.id, reason=reason):  # type: ignore[arg-type]
            result.superseded.append(loser.id)
    if result.ignored_ids:
        logger.warning("%s: ignored %d ids the model invented", RECONCILE_STEP, result.ignored_ids)
    return result


def summarize_thread(store: MemoryStore, ai: ModelClient, request: ThreadRequest) -> SummaryResult:
    """Fold every turn since the thread summary's watermark into the summary."""
    user_id, thread_id = request.user_id, request.thread_id
    summary = store.get_summary(user_id, "thread", thread_id)
    watermark = summary.covers_up_to if summary else 0
    turns = store.list_turns(user_id, thread_id, after=watermark)
    result = SummaryResult(watermark=watermark)
    for batch in pack_turns(turns):
        output = ai.parse(
            user_id=user_id,
            step=THREAD_SUMMARY_STEP,
            prompt=summaries.THREAD_PROMPT,
            messages=summaries.thread_messages(summary.fields if summary else None, batch),
            output=summaries.ThreadSummaryOutput,
        )
        content = "\n".join([output.overview, *(f"- {p}" for p in output.key_points)])
        summary = Summary(
            user_id=user_id,
            thread_id=thread_id,
            kind="thread",
            content=content,
            fields=output.model_dump(),
            covers_up_to=batch[-1].seq or 0,
            prompt_version=summaries.THREAD_PROMPT.tag,
            updated_at=utcnow(),
        )
        vectors = ai.embed([content])
        store.put_summary(summary, vectors[0])
        result.turns += len(batch)
        result.batches += 1
        result.updated = True
        result.watermark = summary.covers_up_to
    return result


def summarize_user(store: MemoryStore, ai: ModelClient, request: UserRequest) -> SummaryResult:
    """Rewrite the user profile from active memories and thread summaries."""
    memories = store.list_memories(request.user_id, limit=200)
    threads = store.list_summaries(request.user_id, "thread")
    if not memories and not threads:
        return SummaryResult()
    output = ai.parse(
        user_id=request.user_id,
        step=USER_SUMMARY_STEP,
        prompt=summaries.USER_PROMPT,
        messages=summaries.user_messages(
            [f"({m.type}, {m.confidence:.2f}) {m.content}" for m in memories],
            [str(s.fields.get("overview", s.content)) for s in threads[:50]],
        ),
        output=summaries.UserProfileOutput,
    )
    content = "\n".join([output.overview, *(f"- {p}" for p in output.preferences)])
    profile = Summary(
        user_id=request.user_id,
        kind="user",
        content=content,
        fields=output.model_dump(),
        prompt_version=summaries.USER_PROMPT.tag,
        updated_at=utcnow(),
    )
    vectors = ai.embed([content])
    store.put_summary(profile, vectors[0])
    return SummaryResult(updated=True)
