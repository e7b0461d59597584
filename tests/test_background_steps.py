"""Writes never wait on a model: the sync client runs due steps on a worker thread."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from agent_memory import MemoryClient
from agent_memory.processor.runners import BackgroundRunner
from tests.support.openai_server import FakeOpenAIServer
from tests.test_pipeline import CONVERSATION, answer, env_for


def test_add_returns_while_the_model_is_still_answering(
    openai_server: FakeOpenAIServer, db_path: Path
) -> None:
    release = threading.Event()
    entered = threading.Event()

    def held(body: dict[str, Any]) -> Any:
        entered.set()
        assert release.wait(30)
        return answer(body)

    openai_server.script(held)
    env = env_for(openai_server, db_path, THREAD_SUMMARY_EVERY_N="0", USER_SUMMARY_EVERY_N="0")
    memory = MemoryClient.from_env(env)
    try:
        turn = memory.add("dana", "kitchen", "user", CONVERSATION[0][1])
        assert entered.wait(30)  # the model is answering on the worker thread ...
        assert [t.id for t in memory.get_turns("dana", "kitchen")] == [turn.id]  # ... not here
        assert memory.get_memories("dana") == []
        second = memory.add("dana", "kitchen", "user", CONVERSATION[2][1])
        assert second.seq is not None and memory.processor.status.completed == 0
    finally:
        release.set()
        memory.close()  # waits for the queued steps
    with MemoryClient(path=db_path) as reader:
        assert {m.content for m in reader.get_memories("dana")} == {
            "Dana is vegetarian.",
            "Answer Dana in bullet points.",
        }


def test_process_now_waits_for_queued_steps_first(
    openai_server: FakeOpenAIServer, db_path: Path
) -> None:
    openai_server.script(answer)
    with MemoryClient.from_env(env_for(openai_server, db_path)) as memory:
        for role, content in CONVERSATION[:3]:
            memory.add("dana", "kitchen", role, content)
        report = memory.process_now("dana", "kitchen")
        assert report.extracted["kitchen"].turns == 0  # the worker had done them all
        assert memory.processor.status.completed >= 1
        assert len(memory.get_memories("dana")) == 2


def test_the_runner_is_bounded_and_its_thread_ends_when_idle(monkeypatch: Any) -> None:
    from agent_memory.processor import runners

    monkeypatch.setattr(runners, "IDLE_SECONDS", 0.05)
    runner = BackgroundRunner(max_queued=2)
    gate = threading.Event()
    done: list[int] = []
    runner.submit(lambda: gate.wait(30))
    runner.submit(lambda: done.append(1))
    runner.submit(lambda: done.append(2))  # queue of 2: the worker holds the first
    blocked = threading.Thread(target=runner.submit, args=(lambda: done.append(3),))
    blocked.start()
    blocked.join(0.2)
    assert blocked.is_alive()  # back-pressure: the fourth waits for room
    gate.set()
    blocked.join(30)
    runner.drain()
    assert done == [1, 2, 3] and runner.pending == 0
    worker = runner._worker
    if worker is not None:
        worker.join(30)
    assert runner._worker is None
    runner.submit(lambda: done.append(4))  # a new worker starts on demand
    runner.drain()
    assert done == [1, 2, 3, 4]
