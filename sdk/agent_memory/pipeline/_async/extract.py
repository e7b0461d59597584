"""The extraction step: turns after the watermark -> grounded memories (async source)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from agent_memory.core import grounding
from agent_memory.core.batching import pack_turns
from agent_memory.core.errors import ForgottenError, InvalidInputError
from agent_memory.core.models import Memory, Turn
from agent_memory.core.prompts import extraction
from agent_memory.core.requests import UNCLASSIFIED_TAG, ExtractResult, ThreadRequest
from agent_memory.core.steps import EXTRACT_STEP
from agent_memory.core.validation import is_blank
from agent_memory.pipeline.forgotten import log_forgotten
from agent_memory.stores._async.protocol import AsyncMemoryStore

if TYPE_CHECKING:
    from agent_memory.model._async.client import AsyncModelClient

logger = logging.getLogger("agent_memory.pipeline")

#: Active memories shown to the model so it does not extract them again.
KNOWN_MEMORIES_IN_PROMPT = 40
#: Below this confidence an item is stored as an unclassified fact.
MIN_CONFIDENCE = 0.5


async def _lost_race(
    store: AsyncMemoryStore,
    request: ThreadRequest,
    expected: int,
    turns: list[Turn],
    result: ExtractResult,
) -> bool:
    """True when the watermark moved away from ``expected`` since this run read it.

    Another run of the step (a concurrent one, or a duplicate under at-least-once delivery)
    is extracting the thread, so this run stops: it counts the race in ``covered`` and the
    turns it listed that the watermark does not cover yet in ``remaining`` (a driver that
    loops on ``remaining`` runs again for them).
    """
    current = await store.get_watermark(request.user_id, request.thread_id, EXTRACT_STEP)
    if current == expected:
        return False
    _record_lost_race(current, turns, result)
    return True


def _record_lost_race(current: int, turns: list[Turn], result: ExtractResult) -> None:
    result.covered += 1
    result.watermark = max(result.watermark, current)
    result.remaining = sum(1 for t in turns if (t.seq or 0) > current)


async def extract_memories(
    store: AsyncMemoryStore, ai: AsyncModelClient, request: ThreadRequest
) -> ExtractResult:
    """Extract memories from the turns after the thread's extraction watermark.

    At most ``request.max_batches`` model batches (all when None); ``remaining`` in the
    result counts the turns left. Each batch moves the watermark by compare-and-set from the
    value this run read, after the batch's memories are written: of two runs of the step on
    the same turns exactly one moves it and counts the batch's turns. The other stops
    (``covered``) as soon as it sees the watermark moved — before its model call, before its
    writes, or at the compare-and-set. Memory ids are derived from content, so whichever run
    writes a memory first writes it once: ``created`` counts the memories this run wrote,
    ``duplicates`` those already there.
    """
    user_id, thread_id = request.user_id, request.thread_id
    epoch = await store.user_epoch(user_id)
    watermark = await store.get_watermark(user_id, thread_id, EXTRACT_STEP)
    turns = await store.list_turns(user_id, thread_id, after=watermark)
    result = ExtractResult(watermark=watermark)
    try:
        await _extract(store, ai, request, turns, epoch, result)
    except ForgottenError:
        log_forgotten(EXTRACT_STEP)
        result.forgotten = True
    return result


async def _extract(
    store: AsyncMemoryStore,
    ai: AsyncModelClient,
    request: ThreadRequest,
    turns: list[Turn],
    epoch: str,
    result: ExtractResult,
) -> None:
    user_id, thread_id = request.user_id, request.thread_id
    batches = pack_turns(turns)
    if request.max_batches is not None:
        left = batches[request.max_batches :]
        batches = batches[: request.max_batches]
        result.remaining = sum(len(b) for b in left)
    expected = result.watermark
    for batch in batches:
        last = batch[-1].seq or 0
        if await _lost_race(store, request, expected, turns, result):
            break
        known = await store.list_memories(user_id, limit=KNOWN_MEMORIES_IN_PROMPT)
        output = await ai.parse(
            user_id=user_id,
            step=EXTRACT_STEP,
            prompt=extraction.PROMPT,
            messages=extraction.build_messages(batch, [m.content for m in known]),
            output=extraction.ExtractionOutput,
            epoch=epoch,
        )
        batch_ids = {t.id for t in batch}
        memories: list[Memory] = []
        for item in output.items:
            if is_blank(item.content):
                continue
            sources = [i for i in item.source_turn_ids if i in batch_ids]
            result.unknown_turn_ids += len(item.source_turn_ids) - len(sources)
            uncertain = item.bucket == "unclassified" or item.confidence < MIN_CONFIDENCE
            episodic = item.bucket == "episodic" and not uncertain
            try:
                memory = Memory.create(
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
            except InvalidInputError as exc:  # e.g. a lone surrogate: skip the item, not the batch
                logger.warning("%s: skipped an item the model returned: %s", EXTRACT_STEP, exc)
                result.skipped += 1
                continue
            memories.append(memory)
        grounded, vectors = await _grounded(ai, memories, batch, result)
        if await _lost_race(store, request, expected, turns, result):
            break  # a concurrent run moved on while the model answered
        for memory, vector in zip(grounded, vectors, strict=True):
            if await store.create_memory(memory, vector, epoch=epoch):
                result.created += 1
            else:
                result.duplicates += 1
        if not await store.compare_and_set_watermark(
            user_id, thread_id, EXTRACT_STEP, expected=expected, value=last, epoch=epoch
        ):
            current = await store.get_watermark(user_id, thread_id, EXTRACT_STEP)
            _record_lost_race(current, turns, result)
            break
        expected = result.watermark = last
        result.turns += len(batch)
        result.batches += 1
    if result.unknown_turn_ids:
        logger.warning(
            "%s: ignored %d turn ids the model invented", EXTRACT_STEP, result.unknown_turn_ids
        )
    if result.ungrounded:
        logger.warning("%s: dropped ungrounded memories %s", EXTRACT_STEP, result.ungrounded)


async def _grounded(
    ai: AsyncModelClient, memories: list[Memory], batch: list[Turn], result: ExtractResult
) -> tuple[list[Memory], list[Any]]:
    """The memories their cited turns support, with their embeddings; the rest counted."""
    if not memories:
        return [], []
    check = grounding.Check(
        [m.content for m in memories],
        [[grounding.turn_text(t) for t in batch if t.id in m.source_turn_ids] for m in memories],
        extraction.GROUNDING,
    )
    judged = check.judge(await ai.embed(check.texts))
    grounding.merge_counts(result.ungrounded, judged.dropped)
    return [memories[i] for i in judged.kept], list(judged.claim_vectors[judged.kept])
