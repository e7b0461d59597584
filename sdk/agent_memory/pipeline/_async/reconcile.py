"""The reconcile step: supersede duplicates and contradicted facts (async source)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from agent_memory.core.errors import ForgottenError
from agent_memory.core.models import SupersedeReason
from agent_memory.core.prompts import reconcile as reconcile_prompt
from agent_memory.core.requests import ReconcileRequest, ReconcileResult
from agent_memory.core.steps import RECONCILE_STEP
from agent_memory.core.supersede_plan import plan_supersedes
from agent_memory.pipeline.forgotten import log_forgotten
from agent_memory.stores._async.protocol import AsyncMemoryStore

if TYPE_CHECKING:
    from agent_memory.model._async.client import AsyncModelClient

logger = logging.getLogger("agent_memory.pipeline")


async def reconcile(
    store: AsyncMemoryStore, ai: AsyncModelClient, request: ReconcileRequest
) -> ReconcileResult:
    """Supersede duplicates and contradicted facts among the ``n`` most recent active facts."""
    epoch = await store.user_epoch(request.user_id)
    facts = await store.list_memories(request.user_id, memory_types=["fact"], limit=request.n)
    result = ReconcileResult(considered=len(facts))
    if len(facts) < 2:
        return result
    try:
        by_short = {f"m{i}": fact for i, fact in enumerate(reversed(facts), start=1)}
        output = await ai.parse(
            user_id=request.user_id,
            step=RECONCILE_STEP,
            prompt=reconcile_prompt.PROMPT,
            messages=reconcile_prompt.build_messages(
                [(sid, f.created_at.date().isoformat(), f.content) for sid, f in by_short.items()]
            ),
            output=reconcile_prompt.ReconcileOutput,
            epoch=epoch,
        )
        proposals: list[tuple[str, str, SupersedeReason]] = [
            (d, g.keep, "duplicate") for g in output.duplicate_groups for d in g.duplicates
        ]
        proposals += [(c.older, c.newer, "contradict") for c in output.contradictions]
        plan = plan_supersedes(proposals, by_short)
        result.ignored_ids, result.conflicting = plan.unknown, plan.conflicting
        for loser_sid, winner_sid, reason in plan.supersedes:
            loser, winner = by_short[loser_sid], by_short[winner_sid]
            current = await store.get_memory(request.user_id, winner.id)
            if current is None or not current.active:  # superseded or gone since it was listed
                result.conflicting += 1
                continue
            if await store.supersede(
                request.user_id, loser.id, by=winner.id, reason=reason, epoch=epoch
            ):
                result.superseded.append(loser.id)
    except ForgottenError:
        log_forgotten(RECONCILE_STEP)
        result.forgotten = True
        return result
    if result.ignored_ids:
        logger.warning("%s: ignored %d ids the model invented", RECONCILE_STEP, result.ignored_ids)
    if result.conflicting:
        logger.warning(
            "%s: dropped %d proposals that would supersede a winner or close a cycle",
            RECONCILE_STEP,
            result.conflicting,
        )
    return result
