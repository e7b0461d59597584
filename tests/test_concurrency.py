"""Concurrent writers on one embedded store: no errors, no lost or duplicated turns."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agent_memory import MemoryClient
from agent_memory.aio import MemoryClient as AsyncMemoryClient

WORKERS = 8
ADDS = 100


def check(turns: list[list[int | None]]) -> None:
    seqs = [s for thread in turns for s in thread]
    assert len(seqs) == WORKERS * ADDS
    assert None not in seqs and len(set(seqs)) == len(seqs)


def test_eight_threads_adding_to_one_user(client: MemoryClient) -> None:
    def work(worker: int) -> None:
        for i in range(ADDS):
            client.add("alice", f"t{worker % 2}", "user", f"worker {worker} message {i}")

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(work, range(WORKERS)))  # re-raises any worker's error
    turns = [client.get_turns("alice", f"t{t}") for t in range(2)]
    check([[t.seq for t in thread] for thread in turns])
    for thread in turns:
        for worker in range(WORKERS):
            mine = [t.content for t in thread if t.content.startswith(f"worker {worker} ")]
            assert mine == [f"worker {worker} message {i}" for i in range(ADDS)] or not mine


async def test_eight_async_tasks_adding_to_one_user(db_path: Path) -> None:
    async with AsyncMemoryClient(path=db_path) as client:

        async def work(worker: int) -> None:
            for i in range(ADDS):
                await client.add("alice", f"t{worker % 2}", "user", f"task {worker} message {i}")

        await asyncio.gather(*(work(w) for w in range(WORKERS)))
        turns = [await client.get_turns("alice", f"t{t}") for t in range(2)]
    check([[t.seq for t in thread] for thread in turns])


def test_two_clients_on_one_file_interleave_writes_and_searches(db_path: Path) -> None:
    with MemoryClient(path=db_path) as a, MemoryClient(path=db_path) as b:
        for i in range(20):
            a.add_memory("alice", "t1", f"Alice visited city number {i}.")
            hits = b.search("alice", f"city number {i}", top=1, mode="text")
            assert hits[0].content == f"Alice visited city number {i}."
