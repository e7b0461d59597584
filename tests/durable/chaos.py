"""The chaos scenario: many users, threads and turns through the Function app under faults.

Turns of every user and thread are written interleaved; the change feed is cut into batches
of random size, some delivered twice, some re-cut across their neighbours (regrouped), and
delivered out of order within a window. Orchestrations overlap (the host runs only a few
steps between deliveries, so several instances of one user are in flight at once), a share
of activity attempts fails, a share of activities runs twice, some instances are terminated
mid-way, one thread is poison (its extraction fails every time), and the sweeper runs now
and then. The same conversation then runs in-process for comparison.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_memory import Memory, MemoryClient, Turn
from agent_memory.durable.host import sweeper, trigger
from agent_memory.durable.names import COUNTER_ENTITY
from agent_memory.settings import Settings
from tests.durable.replay import NON_RUNNING, RUNNING
from tests.durable.rig import DurableRig, documents
from tests.support.openai_server import FakeOpenAIServer, Fault
from tests.test_pipeline import answer, env_for, transcript

POISON = "POISON"
#: Extraction every 10 turns of a thread, a thread summary every 50; no reconcile and no user
#: summary, whose output depends on timing, so memories can be compared with the in-process run.
THRESHOLDS = {
    "FACT_EXTRACTION_EVERY_N": "10",
    "THREAD_SUMMARY_EVERY_N": "50",
    "DEDUP_EVERY_N": "0",
    "USER_SUMMARY_EVERY_N": "0",
}


def chaos_model(body: dict[str, Any]) -> Any:
    """Files every user turn as a fact; any extraction that sees the poison thread fails."""
    system = body["messages"][0]["content"]
    if not system.startswith("You extract"):
        return answer(body)
    turns = transcript(body)
    if any(POISON in t["text"] for t in turns):
        return Fault.server_error(400, "content filtered")
    items = [
        {
            "bucket": "fact",
            "content": f"The user wrote {t['text']}.",
            "confidence": 0.9,
            "tags": ["notes"],
            "source_turn_ids": [t["turn_id"]],
            "situation": None,
            "action": None,
            "outcome": None,
        }
        for t in turns
        if t["role"] == "user"
    ]
    return {"items": items}


@dataclass
class ChaosReport:
    """Figures of one chaos run."""

    users: int
    threads: int
    turns: int
    deliveries: int = 0
    redelivered: int = 0
    regrouped: int = 0
    started: int = 0
    terminated: int = 0
    max_running_per_user: int = 0
    activity_attempts: int = 0
    activity_failures: int = 0
    episodes: int = 0
    replays: int = 0
    entity_batches: int = 0
    sweeps: int = 0
    reruns: int = 0
    seconds: float = 0.0
    in_process_seconds: float = 0.0
    max_state_bytes: int = 0
    memories: int = 0
    counted: dict[str, int] = field(default_factory=dict)
    backlog: list[str] = field(default_factory=list)  # threads with turns past the watermark
    states: dict[str, Any] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("states",)}


def conversation(users: int, threads: int, turns: int) -> list[tuple[str, str, str, str, str]]:
    """``(user, thread, turn id, role, text)`` in write order: threads interleaved."""
    rng = random.Random(1)
    cursors = {(u, t): 0 for u in range(users) for t in range(threads)}
    written: list[tuple[str, str, str, str, str]] = []
    while cursors:
        key = rng.choice(sorted(cursors))
        done = cursors[key]
        upto = min(done + rng.randint(1, 4), turns)
        u, t = key
        user, thread = f"user-{u}", f"thread-{t}"
        for i in range(done, upto):
            role = "user" if i % 2 == 0 else "assistant"
            text = f"note {i} of {thread}" + (f" {POISON}" if key == (0, 1) else "")
            written.append((user, thread, f"{thread}-turn-{i:04d}", role, text))
        cursors[key] = upto
        if upto >= turns:
            del cursors[key]
    return written


def cut(feed: list[dict[str, Any]], rng: random.Random) -> list[tuple[int, int, str]]:
    """Batches as ``(start, end, kind)`` slices of the feed, in delivery order."""
    slices: list[tuple[int, int, str]] = []
    start = 0
    while start < len(feed):
        end = min(start + rng.randint(1, 30), len(feed))
        slices.append((start, end, "batch"))
        if rng.random() < 0.15:
            slices.append((start, end, "redelivered"))
        if rng.random() < 0.15 and start > 0:
            lo = max(0, start - rng.randint(1, 10))
            slices.append((lo, min(end + rng.randint(1, 10), len(feed)), "regrouped"))
        start = end
    # out of order within a window of four deliveries
    ordered: list[tuple[int, int, str]] = []
    for i in range(0, len(slices), 4):
        window = slices[i : i + 4]
        rng.shuffle(window)
        ordered.extend(window)
    return ordered


async def run_chaos(
    server: FakeOpenAIServer,
    workdir: Path,
    *,
    users: int,
    threads: int,
    turns: int,
    seed: int = 11,
    steps_between: int = 25,
) -> tuple[ChaosReport, dict[str, list[Memory]], dict[str, list[Memory]]]:
    """Run the scenario durably and in-process; the report and both runs' memories."""
    server.script(chaos_model)
    rng = random.Random(seed)
    rig = DurableRig(
        server,
        workdir / "durable.db",
        rng=random.Random(seed + 1),
        fail_rate=0.1,
        duplicate_rate=0.05,
        **THRESHOLDS,
    )
    report = ChaosReport(users=users, threads=threads, turns=users * threads * turns)
    written = conversation(users, threads, turns)
    began = time.perf_counter()
    try:
        stored: list[Turn] = []
        for user, thread, turn_id, role, text in written:
            stored.append(await rig.client.add(user, thread, role, text, turn_id=turn_id))
        feed = documents(stored)
        for n, (start, end, kind) in enumerate(cut(feed, rng)):
            report.deliveries += 1
            report.redelivered += kind == "redelivered"
            report.regrouped += kind == "regrouped"
            report.started += len(
                await trigger.on_change_feed(rig.starter, feed[start:end], rig.settings)
            )
            for _ in range(rng.randint(0, steps_between)):
                if not await rig.host.step():
                    break
            _observe_overlap(rig, report)
            if rng.random() < 0.03:
                running = [i for i in rig.host.instances.values() if i.status == RUNNING]
                if running:
                    await rig.starter.terminate(rng.choice(running).instance_id, "crashed")
                    report.terminated += 1
            if n % 40 == 39:
                report.reruns += len((await sweeper.sweep(rig.starter, rig.host.now)).rerun)
                report.sweeps += 1
        for _ in range(5):  # settle: drain, sweep, until nothing is re-run or replayed
            await rig.host.drain()
            swept = await sweeper.sweep(rig.starter, rig.host.now)
            report.sweeps += 1
            report.reruns += len(swept.rerun)
            if not swept.rerun and not swept.replayed:
                break
        await rig.host.drain()
        report.seconds = time.perf_counter() - began
        assert all(i.status in NON_RUNNING for i in rig.host.instances.values())
        report.activity_attempts = len(rig.host.calls)
        report.activity_failures = sum(not c.ok for c in rig.host.calls)
        report.episodes = sum(i.episodes for i in rig.host.instances.values())
        report.replays = rig.host.replays
        report.entity_batches = rig.host.entities.batches
        durable: dict[str, list[Memory]] = {}
        for u in range(users):
            user = f"user-{u}"
            raw = rig.host.entities.raw_state(COUNTER_ENTITY, user) or "{}"
            report.max_state_bytes = max(report.max_state_bytes, len(raw.encode()))
            report.states[user] = json.loads(raw)
            report.counted[user] = report.states[user].get("user_turns", 0)
            durable[user] = await rig.client.get_memories(user, include_superseded=True)
            report.memories += len(durable[user])
            for t in range(threads):
                thread = f"thread-{t}"
                watermark = await rig.client.store.get_watermark(user, thread, "extract_memories")
                latest = max(
                    x.seq or 0 for x in stored if (x.user_id, x.thread_id) == (user, thread)
                )
                if watermark < latest:
                    report.backlog.append(f"{user}/{thread}")
    finally:
        await rig.close()

    began = time.perf_counter()
    in_process: dict[str, list[Memory]] = {}
    settings = Settings.from_env(
        env_for(server, workdir / "inprocess.db", MEMORY_PROCESSOR_OWNER="inprocess", **THRESHOLDS)
    )
    with MemoryClient(settings=settings) as client:  # inline processing, same thresholds
        for user, thread, turn_id, role, text in written:
            if POISON not in text:
                client.add(user, thread, role, text, turn_id=turn_id)
        for u in range(users):
            client.process_now(f"user-{u}")
            in_process[f"user-{u}"] = client.get_memories(f"user-{u}", include_superseded=True)
    report.in_process_seconds = time.perf_counter() - began
    return report, durable, in_process


def _observe_overlap(rig: DurableRig, report: ChaosReport) -> None:
    running = Counter(
        json.loads(i.input_json)["user_id"]
        for i in rig.host.instances.values()
        if i.status not in NON_RUNNING
    )
    if running:
        report.max_running_per_user = max(report.max_running_per_user, max(running.values()))


def comparable(memories: list[Memory]) -> dict[str, dict[str, Any]]:
    """Memories by id, without timestamps."""
    stamps = {"created_at", "updated_at", "superseded_at"}
    return {m.id: m.model_dump(exclude=stamps) for m in memories}
