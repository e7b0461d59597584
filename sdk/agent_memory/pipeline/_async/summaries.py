"""The summary steps: the thread summary and the user profile (async source)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from agent_memory.core import grounding
from agent_memory.core.batching import pack_turns
from agent_memory.core.errors import ForgottenError
from agent_memory.core.models import Summary, utcnow
from agent_memory.core.prompts import summaries
from agent_memory.core.requests import SummaryResult, ThreadRequest, UserRequest
from agent_memory.core.steps import THREAD_SUMMARY_STEP, USER_SUMMARY_STEP
from agent_memory.pipeline.forgotten import log_forgotten
from agent_memory.stores._async.protocol import AsyncMemoryStore

if TYPE_CHECKING:
    from agent_memory.model._async.client import AsyncModelClient

logger = logging.getLogger("agent_memory.pipeline")


async def summarize_thread(
    store: AsyncMemoryStore, ai: AsyncModelClient, request: ThreadRequest
) -> SummaryResult:
    """Fold every turn since the thread summary's watermark into the summary."""
    user_id, thread_id = request.user_id, request.thread_id
    epoch = await store.user_epoch(user_id)
    summary = await store.get_summary(user_id, "thread", thread_id)
    watermark = summary.covers_up_to if summary else 0
    turns = await store.list_turns(user_id, thread_id, after=watermark)
    result = SummaryResult(watermark=watermark)
    try:
        for batch in pack_turns(turns):
            output = await ai.parse(
                user_id=user_id,
                step=THREAD_SUMMARY_STEP,
                prompt=summaries.THREAD_PROMPT,
                messages=summaries.thread_messages(summary.fields if summary else None, batch),
                output=summaries.ThreadSummaryOutput,
                epoch=epoch,
            )
            previous = _summary_lines(summary.fields if summary else {})
            lines = grounding.LinesCheck(
                output.model_dump(),
                summaries.THREAD_LIST_FIELDS,
                [*previous, *map(grounding.turn_text, batch)],
                summaries.THREAD_GROUNDING,
                labels=("topics",),
            )
            fields, dropped = lines.apply(await ai.embed(lines.texts))
            grounding.merge_counts(result.ungrounded, dropped)
            content = "\n".join([fields["overview"], *(f"- {p}" for p in fields["key_points"])])
            summary = Summary(
                user_id=user_id,
                thread_id=thread_id,
                kind="thread",
                content=content,
                fields=fields,
                covers_up_to=batch[-1].seq or 0,
                prompt_version=summaries.THREAD_PROMPT.tag,
                updated_at=utcnow(),
            )
            vectors = await ai.embed([content])
            await store.put_summary(summary, vectors[0], epoch=epoch)
            result.turns += len(batch)
            result.batches += 1
            result.updated = True
            result.watermark = summary.covers_up_to
    except ForgottenError:
        log_forgotten(THREAD_SUMMARY_STEP)
        result.forgotten = True
    return result


async def summarize_user(
    store: AsyncMemoryStore, ai: AsyncModelClient, request: UserRequest
) -> SummaryResult:
    """Rewrite the user profile from active memories and thread summaries."""
    epoch = await store.user_epoch(request.user_id)
    memories = await store.list_memories(request.user_id, limit=200)
    threads = await store.list_summaries(request.user_id, "thread")
    if not memories and not threads:
        return SummaryResult()
    try:
        output = await ai.parse(
            user_id=request.user_id,
            step=USER_SUMMARY_STEP,
            prompt=summaries.USER_PROMPT,
            messages=summaries.user_messages(
                [f"({m.type}, {m.confidence:.2f}) {m.content}" for m in memories],
                [str(s.fields.get("overview", s.content)) for s in threads[:50]],
            ),
            output=summaries.UserProfileOutput,
            epoch=epoch,
        )
        lines = grounding.LinesCheck(
            output.model_dump(),
            summaries.USER_LIST_FIELDS,
            [m.content for m in memories]
            + [str(s.fields.get("overview", s.content)) for s in threads],
            summaries.USER_GROUNDING,
        )
        fields, dropped = lines.apply(await ai.embed(lines.texts))
        content = "\n".join([fields["overview"], *(f"- {p}" for p in fields["preferences"])])
        profile = Summary(
            user_id=request.user_id,
            kind="user",
            content=content,
            fields=fields,
            prompt_version=summaries.USER_PROMPT.tag,
            updated_at=utcnow(),
        )
        vectors = await ai.embed([content])
        await store.put_summary(profile, vectors[0], epoch=epoch)
    except ForgottenError:
        log_forgotten(USER_SUMMARY_STEP)
        return SummaryResult(forgotten=True)
    if dropped:
        logger.warning("%s: dropped ungrounded profile lines %s", USER_SUMMARY_STEP, dropped)
    return SummaryResult(updated=True, ungrounded=dropped)


def _summary_lines(fields: dict[str, object]) -> list[str]:
    """The previous thread summary's overview and lines, as grounding sources."""
    out = [str(fields["overview"])] if fields.get("overview") else []
    for name in summaries.THREAD_LIST_FIELDS:
        value = fields.get(name)
        if isinstance(value, list):
            out.extend(str(line) for line in value)
    return out
