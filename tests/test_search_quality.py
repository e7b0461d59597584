"""Search quality of the embedded store: speaker, date and thread context; query terms; fusion."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from agent_memory import MemoryClient, SqliteStore
from agent_memory.core import context
from agent_memory.core.query import query_terms, rrf
from agent_memory.stores.sqlite.vectors import VectorCache


def ids(client: MemoryClient, query: str, mode: str = "hybrid", **options: object) -> list[str]:
    hits = client.search("u", query, top=10, include_turns=True, mode=mode, **options)  # type: ignore[arg-type]
    return [h.id for h in hits]


def fts_row(store: SqliteStore, turn_seq: int) -> tuple[str, str, str]:
    row = (
        store._connect()
        .execute("SELECT about, before, after FROM turns_fts WHERE rowid = ?", (turn_seq,))
        .fetchone()
    )
    return row[0], row[1], row[2]


CHAT = [
    ("q", "Ravi", "I finally went to that concert on Friday!"),
    ("a", "Mia", "No way! Who was playing?"),
    ("b", "Ravi", "Matt Patterson, and he was incredible live."),
    ("f1", "Mia", "My sourdough starter died again this week."),
    ("f2", "Ravi", "Try feeding it twice a day with rye flour."),
    ("f3", "Mia", "We are repainting the kitchen a pale green."),
]


def add_chat(client: MemoryClient, thread: str = "s1") -> None:
    when = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    client.add_turns(
        "u",
        thread,
        [
            {
                "id": i,
                "role": "user",
                "content": text,
                "metadata": {"name": name},
                "created_at": when,
            }
            for i, name, text in CHAT
        ],
    )


def test_the_speaker_name_is_searchable(client: MemoryClient) -> None:
    for turn_id, name in (("t1", "Tom"), ("t2", "Priya")):
        text = "I spent the weekend in the garden."
        client.add("u", "s1", "user", text, turn_id=turn_id, metadata={"name": name})
    for mode in ("text", "hybrid"):
        assert ids(client, "What did Priya do in the garden?", mode)[0] == "t2"
        assert ids(client, "Tom's garden", mode)[0] == "t1"


def test_the_words_of_a_turns_date_are_searchable(client: MemoryClient) -> None:
    for turn_id, month in (("may", 5), ("june", 6)):
        when = datetime(2023, month, 10, tzinfo=UTC)
        text = "We went camping by the lake."
        client.add("u", f"s-{month}", "user", text, turn_id=turn_id, created_at=when)
    for mode in ("text", "hybrid"):
        assert ids(client, "camping in June", mode)[0] == "june"
        assert ids(client, "When did we go camping in May 2023?", mode)[0] == "may"


def test_hybrid_finds_an_answer_that_repeats_no_word_of_the_question(
    client: MemoryClient,
) -> None:
    add_chat(client)
    # "Who played at the concert?" is answered by turn b, which never says "concert".
    assert "b" not in ids(client, "Who played at the concert?", "text")
    assert "b" in ids(client, "Who played at the concert?", "hybrid")[:3]


def test_thread_context_spans_add_calls_and_skips_known_turns(tmp_path: Path) -> None:
    with MemoryClient(path=tmp_path / "m.db") as client:
        first = client.add("u", "s1", "user", "What concert did you see?", turn_id="x")
        second = client.add("u", "s1", "user", "Matt Patterson, live.", turn_id="y")
        # a redelivered turn and a new one in one batch: the new one follows "y", not "x"
        third = client.add_turns(
            "u",
            "s1",
            [
                {"id": "x", "role": "user", "content": "What concert did you see?"},
                {"id": "z", "role": "user", "content": "Lucky you."},
            ],
        )[1]
        client.add("u", "other", "user", "Unrelated thread.", turn_id="o")
        store = client.store
        assert isinstance(store, SqliteStore)
        assert first.seq and second.seq and third.seq
        assert fts_row(store, first.seq)[1:] == ("", "Matt Patterson, live.")
        assert fts_row(store, second.seq)[1:] == ("What concert did you see?", "Lucky you.")
        assert fts_row(store, third.seq)[1:] == ("Matt Patterson, live.", "")
        ranked = ids(client, "concert", "hybrid")
        assert "y" in ranked and "o" not in ranked  # the unrelated thread is not filler


def test_interleaved_threads_keep_their_own_neighbours(client: MemoryClient) -> None:
    for i in range(3):
        client.add("u", "a", "user", f"alpha message {i}", turn_id=f"a{i}")
        client.add("u", "b", "user", f"beta message {i}", turn_id=f"b{i}")
    store = client.store
    assert isinstance(store, SqliteStore)
    turns = {t.id: t for thread in ("a", "b") for t in client.get_turns("u", thread)}
    _, before, after = fts_row(store, turns["a1"].seq or 0)
    assert (before, after) == ("alpha message 0", "alpha message 2")
    _, before, after = fts_row(store, turns["b0"].seq or 0)
    assert (before, after) == ("", "beta message 1")


def test_the_vector_cache_links_rows_of_the_same_thread() -> None:
    cache = VectorCache(2, neighbours=True)
    rows = [(s, "a" if s % 2 else "b", None, 0, None, None, None) for s in range(1, 6)]
    view = cache.get(("u", "turns"), 0, lambda after: [r for r in rows[:3] if r[0] > after])
    assert view.prev.tolist() == [-1, -1, 0] and view.next.tolist() == [2, -1, -1]
    later = cache.get(("u", "turns"), 0, lambda after: [r for r in rows if r[0] > after])
    assert later.prev.tolist() == [-1, -1, 0, 1, 2]
    assert later.next.tolist() == [2, 3, 4, -1, -1]
    # the older view may see links to rows appended after it; search treats them as absent
    assert view.next.tolist() == [2, 3, 4]


def test_hybrid_search_filters_still_apply_with_thread_context(client: MemoryClient) -> None:
    add_chat(client, "s1")
    add_chat(client, "s2")
    hits = client.search("u", "concert", top=10, include_turns=True, thread_id="s2")
    assert hits and {h.turn.thread_id for h in hits if h.turn is not None} == {"s2"}


def test_about_holds_the_speaker_and_the_date_words() -> None:
    when = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    assert context.about({"name": " Caroline "}, when) == "Caroline 8 May 2023 Monday"
    assert context.about({"name": 42}, when) == "8 May 2023 Monday"
    assert context.about({}, when) == "8 May 2023 Monday"
    assert len(context.neighbour_text("x" * 10_000)) == context.NEIGHBOUR_CHARS


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("What is Melanie's cat called?", ["melanie", "cat", "called"]),
        ("Why didn't she go in 2023 or on day 4?", ["didn", "go", "2023", "day", "4"]),
        ("what is the", []),
    ],
)
def test_query_terms_drop_stopwords_and_single_letters_but_keep_numbers(
    text: str, terms: list[str]
) -> None:
    assert query_terms(text) == terms


def test_weighted_reciprocal_rank_fusion() -> None:
    fused = rrf([[1, 2], [2, 3]], weights=(1.0, 0.5), k=10)
    assert fused == pytest.approx({1: 1 / 11, 2: 1 / 12 + 0.5 / 11, 3: 0.5 / 12})
    assert rrf([[1], [1]], k=10) == pytest.approx({1: 2 / 11})
    assert int(np.argmax([fused[1], fused[2], fused[3]])) == 1
