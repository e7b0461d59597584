"""Full-text search finds words inside scripts written without spaces between words."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from agent_memory import MemoryClient, SqliteStore
from agent_memory.stores.sqlite.schema import SCHEMA_VERSION
from agent_memory.stores.sqlite.segment import segment

CASES = [  # (stored text, word inside it, a word that is not in it)
    ("东京会议", "东京", "京都"),
    ("東京会議の議事録", "会議", "大阪"),
    ("私は昨日東京で会議に出席しました", "出席", "欠席"),
    ("カタカナのコンピューター", "コンピューター", "テレビ"),
    ("서울에서 회의가 있었다", "서울", "부산"),
    ("ฉันไปกรุงเทพเมื่อวานนี้", "กรุงเทพ", "เชียงใหม่"),
    ("iPhone用户反馈很好", "用户", "客户"),
    ("𠮷野家の牛丼", "𠮷野家", "松屋"),
]


@pytest.mark.parametrize(("text", "word", "absent"), CASES)
def test_text_search_finds_a_word_inside_an_unspaced_run(
    client: MemoryClient, text: str, word: str, absent: str
) -> None:
    memory = client.add_memory("u", "t", text)
    turn = client.add("u", "t", "user", text)
    found = client.search("u", word, mode="text", include_turns=True)
    assert {h.id for h in found} == {memory.id, turn.id}
    assert client.search("u", absent, mode="text", include_turns=True) == []
    hybrid = client.search("u", word, include_turns=True)
    assert {memory.id, turn.id} <= {h.id for h in hybrid[:2]}


def test_spaced_scripts_are_indexed_as_before() -> None:
    text = "Alice's café reopened on 2024-05-01, naïve résumé!"
    assert segment(text) == text
    assert segment("東") == "東" and segment("a東b") == "a東b"
    assert segment("東京会議").split() == ["東京", "京会", "会議"]


def test_a_store_from_before_segmentation_is_reindexed_on_open(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    with MemoryClient(path=path) as memory:
        stored = memory.add_memory("u", "t", "東京会議")
        turn = memory.add("u", "t", "user", "大阪で会議")
    db = sqlite3.connect(path)  # the schema-3 index: each run one token
    db.execute("UPDATE memories_fts SET content = '東京会議'")
    db.execute("UPDATE turns_fts SET content = '大阪で会議'")
    db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with MemoryClient(path=path) as memory:
        assert [h.id for h in memory.search("u", "東京", mode="text")] == [stored.id]
        hits = memory.search("u", "会議", mode="text", include_turns=True)
        assert {h.id for h in hits} == {stored.id, turn.id}
    store = SqliteStore(path)
    assert store._meta_int("schema_version") == SCHEMA_VERSION
    store.close()
