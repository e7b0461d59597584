"""The append contract on every store: turn order is commit order.

Concurrent writers on one thread, an extractor reading behind them with the store's watermark:
every turn is seen exactly once and ``seq`` only grows in what the extractor reads. The
embedded store serialises writers with ``BEGIN IMMEDIATE`` and numbers turns inside that
transaction; the Cosmos DB store moves a per-thread head item in each append's transactional
batch (this file runs against an account when ``COSMOS_DB_ENDPOINT`` is set; the npm server
variant is in ``tests/test_cosmos_store.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

from agent_memory import MemoryStore, SqliteStore
from agent_memory.stores.cosmos._sync.store import CosmosStore
from tests.conftest import FakeClock
from tests.support.concurrent_appends import check_race, race_appends


def test_concurrent_appends_to_one_thread_are_all_extracted_in_seq_order(
    request: pytest.FixtureRequest, store: MemoryStore, clock: FakeClock
) -> None:
    kind = request.node.callspec.params["store"]

    def open_store() -> Any:
        if kind == "cosmos":
            return CosmosStore(**request.getfixturevalue("cosmos_account"), clock=clock)
        assert isinstance(store, SqliteStore)
        return SqliteStore(store.path, clock=clock)

    race = race_appends(open_store, store, user="alice", thread="busy", now=clock)
    check_race(race)
    assert len(race.appended) == 4 * 5 * 2
    assert race.passes >= 2
    listed = store.list_turns("alice", "busy")
    assert [t.id for t in listed] == race.seen_ids
    assert store.list_threads("alice") == ["busy"]
