"""Reconcile never wipes a group: the model's answer is resolved into a forest first."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from agent_memory import MemoryClient
from agent_memory.core.supersede_plan import plan_supersedes
from tests.support.openai_server import FakeOpenAIServer
from tests.test_pipeline import env_for

IDS = [f"m{i}" for i in range(1, 8)]
PARIS = ("Dana lives in Paris", "Dana lives in Paris, France.", "Dana is living in Paris now.")


def active(plan_ids: list[str], supersedes: list[tuple[str, str, str]]) -> set[str]:
    return set(plan_ids) - {loser for loser, _, _ in supersedes}


@pytest.mark.parametrize(
    ("proposals", "survivors"),
    [
        # m1 kept in one group and listed as a duplicate of m2 in another
        ([("m2", "m1"), ("m3", "m1"), ("m1", "m2")], {"m1"}),
        # a two-cycle and a self-supersede
        ([("m1", "m2"), ("m2", "m1"), ("m3", "m3")], {"m2", "m3"}),
        # a contradiction cycle of three
        ([("m1", "m2"), ("m2", "m3"), ("m3", "m1")], {"m3"}),
        # a cycle of five, with a tail hanging off it
        (
            [("m1", "m2"), ("m2", "m3"), ("m3", "m4"), ("m4", "m5"), ("m5", "m1"), ("m6", "m1")],
            {"m5"},
        ),
        # a winner that loses later hands its losers on (a chain, not a stale winner)
        ([("m2", "m1"), ("m3", "m1"), ("m1", "m4")], {"m4"}),
        # the same loser claimed by two winners: the first claim stands
        ([("m1", "m2"), ("m1", "m3")], {"m2", "m3"}),
        # two separate groups stay separate
        ([("m1", "m2"), ("m3", "m4"), ("m4", "m3")], {"m2", "m4"}),
    ],
)
def test_every_group_keeps_one_member_and_winners_are_never_superseded(
    proposals: list[tuple[str, str]], survivors: set[str]
) -> None:
    plan = plan_supersedes([(a, b, "duplicate") for a, b in proposals], IDS)
    losers = [loser for loser, _, _ in plan.supersedes]
    winners = {winner for _, winner, _ in plan.supersedes}
    named = {x for pair in proposals for x in pair}
    assert active(sorted(named), plan.supersedes) == survivors
    assert len(losers) == len(set(losers))  # superseded once
    assert not winners & set(losers)  # a winner is never superseded in the same pass
    assert plan.conflicting == len(proposals) - len(losers)


def test_unknown_ids_are_counted_not_applied() -> None:
    plan = plan_supersedes([("m1", "m99", "contradict"), ("x", "m1", "duplicate")], IDS)
    assert plan.supersedes == [] and plan.unknown == 2


def fact_ids(body: dict[str, Any]) -> dict[str, str]:
    return dict(re.findall(r"^(m\d+) \[[^\]]*\] (.*)$", body["messages"][-1]["content"], re.M))


def inconsistent(body: dict[str, Any]) -> dict[str, Any]:
    """Three near-duplicates in inconsistent groups, plus a contradiction cycle of three."""
    ids = {content: sid for sid, content in fact_ids(body).items()}
    paris = [ids[text] for text in PARIS]
    a, b, c = (ids[f"Dana's favourite colour is {colour}."] for colour in ("red", "blue", "green"))
    return {
        "duplicate_groups": [
            {"keep": paris[0], "duplicates": [paris[1], paris[2]]},
            {"keep": paris[1], "duplicates": [paris[0]]},
        ],
        "contradictions": [
            {"newer": b, "older": a, "explanation": "x"},
            {"newer": c, "older": b, "explanation": "x"},
            {"newer": a, "older": c, "explanation": "x"},
        ],
    }


def test_an_inconsistent_answer_leaves_one_active_fact_per_group(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    openai_server.script(inconsistent)
    with MemoryClient.from_env(env_for(openai_server, tmp_path / "m.db")) as memory:
        for text in PARIS:
            memory.add_memory("dana", "t", text)
        for colour in ("red", "blue", "green"):
            memory.add_memory("dana", "t", f"Dana's favourite colour is {colour}.")
        result = memory.reconcile("dana")
        live = memory.get_memories("dana")
        every = memory.get_memories("dana", include_superseded=True)
        assert result.conflicting == 2 and len(result.superseded) == 4
        assert sorted(m.content for m in live) == [
            "Dana lives in Paris",
            "Dana's favourite colour is green.",
        ]
        by_id = {m.id: m for m in every}
        for m in every:
            if m.superseded_by is not None:
                assert by_id[m.superseded_by].active  # never superseded by a superseded memory
        assert [h.content for h in memory.search("dana", "Paris", mode="text")] == [
            "Dana lives in Paris"
        ]
