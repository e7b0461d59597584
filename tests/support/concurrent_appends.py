"""Concurrent appenders on one thread and an extractor reading behind them, for any store.

Each writer runs in its own thread with its own store instance (as separate processes would)
and appends small batches of turns to the same thread. Meanwhile an extractor does what the
extraction step does with a store — ``get_watermark`` → ``list_turns(after=watermark)`` →
``advance_watermark(last seq)`` — until the writers are done, then once more. If a turn could
commit with a ``seq`` below one the extractor has already passed, it would never be seen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent_memory.core.models import Turn

STEP = "extract_memories"


@dataclass
class AppendRace:
    """What the writers appended and what the extractor saw, in the order it saw them."""

    appended: list[str] = field(default_factory=list)
    seen: list[Turn] = field(default_factory=list)
    passes: int = 0
    errors: list[BaseException] = field(default_factory=list)

    @property
    def seen_ids(self) -> list[str]:
        return [t.id for t in self.seen]


def extract_once(store: Any, user: str, thread: str, race: AppendRace) -> None:
    """One pass of the extraction step's reads and watermark move; what it saw goes to ``race``."""
    watermark = store.get_watermark(user, thread, STEP)
    turns = store.list_turns(user, thread, after=watermark)
    race.passes += 1
    if turns:
        race.seen.extend(turns)
        store.advance_watermark(user, thread, STEP, turns[-1].seq or 0)


def race_appends(
    open_store: Callable[[], Any],
    extractor: Any,
    *,
    user: str,
    thread: str,
    now: Callable[[], datetime],
    writers: int = 4,
    appends: int = 5,
    per_append: int = 2,
) -> AppendRace:
    """Run ``writers`` threads of ``appends`` appends each while ``extractor`` reads behind."""
    race = AppendRace()
    lock = threading.Lock()
    start = threading.Barrier(writers + 1)
    done = threading.Event()

    def write(index: int) -> None:
        store = open_store()
        try:
            start.wait()
            for round_ in range(appends):
                batch = [
                    Turn(
                        id=f"w{index}-r{round_}-{k}",
                        user_id=user,
                        thread_id=thread,
                        role="user",
                        content=f"writer {index} round {round_} turn {k}",
                        created_at=now(),
                    )
                    for k in range(per_append)
                ]
                store.append_turns(user, thread, batch, None)
                with lock:
                    race.appended.extend(t.id for t in batch)
        except BaseException as exc:  # reported by the test
            race.errors.append(exc)
        finally:
            store.close()

    def extract() -> None:
        try:
            start.wait()
            while not done.is_set():
                extract_once(extractor, user, thread, race)
            extract_once(extractor, user, thread, race)
        except BaseException as exc:
            race.errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    reader = threading.Thread(target=extract)
    for t in [*threads, reader]:
        t.start()
    for t in threads:
        t.join(timeout=120)
    done.set()
    reader.join(timeout=120)
    return race


def check_race(race: AppendRace) -> None:
    """Every appended turn was seen exactly once, in strictly increasing ``seq`` order."""
    assert race.errors == [], race.errors
    assert len(race.seen_ids) == len(set(race.seen_ids)), "a turn was extracted twice"
    assert sorted(race.seen_ids) == sorted(race.appended), "a turn was never extracted"
    seqs = [t.seq for t in race.seen]
    assert all(isinstance(s, int) for s in seqs)
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
