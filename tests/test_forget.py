"""Forget means gone: steps in flight write nothing afterwards; nothing stays in the file."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from agent_memory import ForgottenError, Memory, MemoryClient, SqliteStore
from agent_memory.core.models import CONTAINERS
from tests.support.openai_server import FakeOpenAIServer
from tests.test_pipeline import CONVERSATION, answer
from tests.test_pipeline import env_for as pipeline_env

USER = "user-5c1f9e"
OTHER = "user-0b77d2"
#: Words only the forgotten user's conversation and the stand-in model's answers contain.
WORDS = (b"sourdough", b"ribeye", b"vegetarian", b"Dana")
TRIALS = 4
STEPS = {
    "extract": "You extract",
    "reconcile": "You maintain",
    "thread summary": "You keep a running summary",
    "user summary": "You write a concise profile",
}


def rows_of(path: Path, user_id: str) -> dict[str, int]:
    """Rows naming ``user_id`` in every table with a ``user_id`` column."""
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        found = {}
        for table in tables:
            columns = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
            if "user_id" in columns:
                count = db.execute(
                    f"SELECT count(*) FROM {table} WHERE user_id = ?", (user_id,)
                ).fetchone()[0]
                if count:
                    found[table] = count
        return found
    finally:
        db.close()


def env_for(server: FakeOpenAIServer, path: Path) -> dict[str, str]:
    """The stand-in model, no step due on its own (``process_now`` runs them)."""
    return pipeline_env(
        server,
        path,
        FACT_EXTRACTION_EVERY_N="0",
        THREAD_SUMMARY_EVERY_N="0",
        USER_SUMMARY_EVERY_N="0",
    )


@pytest.mark.parametrize("step", list(STEPS))
def test_a_step_in_flight_when_the_user_is_forgotten_writes_nothing_afterwards(
    openai_server: FakeOpenAIServer, tmp_path: Path, step: str
) -> None:
    for trial in range(TRIALS):
        path = tmp_path / f"{trial}.db"
        entered, release = threading.Event(), threading.Event()

        def blocking(
            body: dict[str, Any],
            prefix: str = STEPS[step],
            entered: threading.Event = entered,
            release: threading.Event = release,
        ) -> dict[str, Any]:
            if body["messages"][0]["content"].startswith(prefix) and not release.is_set():
                entered.set()
                assert release.wait(30)
            return answer(body)

        openai_server.script(blocking)
        with MemoryClient.from_env(env_for(openai_server, path)) as memory:
            for role, content in CONVERSATION:
                memory.add(USER, "kitchen", role, content)
            memory.add(OTHER, "kitchen", "user", "I keep bees.")
            if step == "reconcile":
                memory.add_memory(USER, "kitchen", "Dana likes tea.")
            reports: list[Any] = []
            worker = threading.Thread(
                target=lambda out=reports, client=memory: out.append(client.process_now(USER))
            )
            worker.start()
            assert entered.wait(30), f"the {step} step never called the model"
            counts = memory.forget(USER)
            release.set()
            worker.join(60)
            assert not worker.is_alive() and reports
            assert set(counts) == set(CONTAINERS) and counts["memories_turns"] == len(CONVERSATION)
            assert memory.get_turns(USER, "kitchen") == []
            assert memory.get_memories(USER, include_superseded=True) == []
            assert memory.get_thread_summary(USER, "kitchen") is None
            assert memory.get_user_summary(USER) is None
            assert memory.usage(USER).calls == 0
            assert memory.pipeline_status.failures == []
        assert rows_of(path, USER) == {}, f"trial {trial}: written after forget"
        assert rows_of(path, OTHER)


def test_writes_with_an_old_epoch_are_refused_in_the_store(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "m.db")
    assert store.user_epoch(USER) == ""
    memory = Memory.create(user_id=USER, thread_id="t", type="fact", content="Dana likes tea.")
    store.create_memory(memory, None)
    epoch = store.user_epoch(USER)
    assert epoch and store.user_epoch(USER) == epoch
    store.forget(USER, thread_id="other")  # forgetting a thread restarts steps in flight too
    with pytest.raises(ForgottenError):
        store.advance_watermark(USER, "t", "extract", 3, epoch=epoch)
    epoch = store.user_epoch(USER)
    assert store.advance_watermark(USER, "t", "extract", 3, epoch=epoch) == 3
    store.forget(USER)
    assert store.user_epoch(USER) == ""
    for write in (
        lambda: store.create_memory(memory, None, epoch=epoch),
        lambda: store.advance_watermark(USER, "t", "extract", 5, epoch=epoch),
        lambda: store.supersede(USER, memory.id, by="x", reason="duplicate", epoch=epoch),
        lambda: store.increment_counter(USER, "turns", thread_id="t", epoch=epoch),
        lambda: store.increment_counter(USER, "turns", by=0, owner="durable", epoch=epoch),
    ):
        with pytest.raises(ForgottenError):
            write()
    assert rows_of(store.path, USER) == {}
    store.create_memory(memory, None)  # the user may come back, with a new epoch
    assert store.user_epoch(USER) not in ("", epoch)
    store.close()


def test_no_text_or_id_of_a_forgotten_user_remains_in_the_file(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    openai_server.script(answer)
    path = tmp_path / "m.db"
    with MemoryClient.from_env(env_for(openai_server, path)) as memory:
        for role, content in CONVERSATION:
            memory.add(USER, "kitchen", role, content, metadata={"name": "Dana"})
        memory.add_memory(USER, "kitchen", "Dana bakes sourdough on Sundays.")
        memory.process_now(USER)
        memory.add(OTHER, "garden", "user", "I keep honeybees on my roof.")
        memory.search(USER, "sourdough", include_turns=True)
        assert memory.get_memories(USER) and memory.get_user_summary(USER) is not None
        counts = memory.forget(USER)
        assert counts["memories"] >= 5 and counts["memories_summaries"] == 2
    files = [p for p in tmp_path.iterdir() if p.name.startswith("m.db")]
    data = b"".join(p.read_bytes() for p in files)
    assert USER.encode() not in data
    for word in WORDS:
        assert word not in data and word.lower() not in data, word
    assert b"honeybees" in data  # the other user's data is still there
