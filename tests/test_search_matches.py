"""Search returns what matches: no filler hits to make up ``top``."""

from __future__ import annotations

from agent_memory import MemoryClient


def test_an_unrelated_query_returns_nothing(client: MemoryClient) -> None:
    client.add("alice", "t1", "user", "I keep bees on my roof.")
    client.add("alice", "t1", "assistant", "Bees need water nearby.")
    client.add_memory("alice", "t1", "Always confirm before deleting files.", type="procedural")
    for mode in ("hybrid", "text", "vector"):
        assert client.search("alice", "quantum chromodynamics", include_turns=True, mode=mode) == []
    hits = client.search("alice", "bees", include_turns=True, top=5)
    assert {h.content for h in hits} == {"I keep bees on my roof.", "Bees need water nearby."}


def test_a_close_paraphrase_is_still_found_without_a_shared_word(client: MemoryClient) -> None:
    client.add_memory("alice", "t1", "Alice is vegetarian.")
    client.add_memory("alice", "t1", "Alice's laptop runs Linux.")
    hits = client.search("alice", "does she eat meat", top=5)
    assert [h.content for h in hits][:1] == ["Alice is vegetarian."]
    assert "Alice's laptop runs Linux." not in {h.content for h in hits}


def test_scores_are_ordered_and_in_the_documented_ranges(client: MemoryClient) -> None:
    client.add_memory("alice", "t1", "Alice keeps bees on her roof.")
    client.add_memory("alice", "t1", "Alice's bees made honey this year.")
    hybrid = client.search("alice", "bees honey", top=5)
    assert [h.score for h in hybrid] == sorted((h.score for h in hybrid), reverse=True)
    assert all(0 < h.score <= 1.5 / 11 for h in hybrid)
    vector = client.search("alice", "bees honey", top=5, mode="vector")
    assert all(0.2 <= h.score <= 1.0 for h in vector)
    text = client.search("alice", "bees honey", top=5, mode="text")
    assert all(h.score > 0 for h in text)
